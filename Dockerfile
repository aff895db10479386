# Rolecall: `docker build -t rolecall .`, then `docker run --env-file .env -p 3000:3000 rolecall`
# (see compose.yaml for PostgreSQL and two replicas behind one port).
ARG PYTHON_VERSION=3.11

# Build stage: install the package and its dependencies into a virtual environment.
FROM python:${PYTHON_VERSION}-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/rolecall
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY sandbox ./sandbox
COPY storage ./storage
# A regular (not editable) install: pip builds the wheel and compiles the bytecode here, so the
# final image needs neither the sources nor write access to the venv. pip and setuptools are
# only needed to install; they leave with this stage.
RUN /opt/rolecall/bin/pip install . \
    && /opt/rolecall/bin/pip uninstall --yes pip setuptools

# Final stage: the venv on a clean base, run by an unprivileged user.
FROM python:${PYTHON_VERSION}-slim
LABEL org.opencontainers.image.title="rolecall" \
      org.opencontainers.image.description="Role-aware Slack bot: feedback to the product manager, blockers to the project manager." \
      org.opencontainers.image.licenses="MIT"
# HOME is set, not looked up: slack-sdk needs a home directory at import, and a runtime that
# starts the container as another uid (OpenShift, runAsUser) has no passwd entry for it.
ENV PATH=/opt/rolecall/bin:$PATH \
    HOME=/var/lib/rolecall \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PORT=3000
# A fixed numeric uid, so `runAsNonRoot` checks and volume ownership are predictable. Its home is
# the one place it may write (the default SQLite database when DATABASE_URL is unset).
RUN groupadd --system --gid 10001 rolecall \
    && useradd --system --uid 10001 --gid rolecall --home-dir /var/lib/rolecall \
        --shell /usr/sbin/nologin rolecall \
    && install --directory --owner=rolecall --group=rolecall /var/lib/rolecall
COPY --from=build /opt/rolecall /opt/rolecall
WORKDIR /var/lib/rolecall
USER 10001:10001
EXPOSE 3000
# 200 once the database is reachable. Python's urllib: the slim image has no curl or wget.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as r; r.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3000'), timeout=4)"]
# `rolecall serve` stops accepting on SIGTERM, finishes the work in flight, then exits.
STOPSIGNAL SIGTERM
ENTRYPOINT ["rolecall"]
CMD ["serve", "--host", "0.0.0.0"]
