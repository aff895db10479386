"""The deployment files (Dockerfile, .dockerignore, compose.yaml, deploy/nginx.conf) keep what
the README's "Deploy" section promises; read as text, no Docker needed."""

import json
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from handlers.settings import Settings
from handlers.web import MAX_BODY

ROOT = Path(__file__).resolve().parents[1]
APP_PORT: int = Settings.model_fields["port"].default
Instruction = tuple[str, str]  # ("COPY", "--from=build /opt/rolecall /opt/rolecall")


def dockerfile_stages() -> list[list[Instruction]]:
    """The Dockerfile's stages, each a list of instructions (comments and line breaks gone)."""
    lines = [
        line for line in (ROOT / "Dockerfile").read_text().splitlines() if not line.startswith("#")
    ]
    text = "\n".join(lines).replace("\\\n", " ")
    stages: list[list[Instruction]] = [[]]
    for line in text.splitlines():
        if not line.strip():
            continue
        keyword, _, rest = line.strip().partition(" ")
        if keyword.upper() == "FROM":
            stages.append([])
        stages[-1].append((keyword.upper(), rest.strip()))
    return stages[1:]  # stage 0 holds only the ARGs before the first FROM


def args(stage: list[Instruction], keyword: str) -> list[str]:
    return [rest for name, rest in stage if name == keyword]


def one(stage: list[Instruction], keyword: str) -> str:
    found = args(stage, keyword)
    assert len(found) == 1, f"expected one {keyword} in the final stage, found {found}"
    return found[0]


@pytest.fixture(scope="module")
def final() -> list[Instruction]:
    return dockerfile_stages()[-1]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return loaded


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


def app_services(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The services that run this repository's image."""
    return {name: s for name, s in services.items() if "build" in s}


def nginx_conf() -> str:
    text = (ROOT / "deploy" / "nginx.conf").read_text()
    return "\n".join(line.split("#", 1)[0] for line in text.splitlines())


def test_the_image_is_built_in_two_stages_and_the_final_one_gets_only_the_venv(
    final: list[Instruction],
) -> None:
    stages = dockerfile_stages()
    assert len(stages) >= 2
    copies = args(final, "COPY") + args(final, "ADD")
    assert copies, "the final stage copies the installed venv from the build stage"
    assert all(copy.startswith("--from=") for copy in copies), copies
    base = final[0][1]
    assert "slim" in base or "alpine" in base, f"a small base image, not {base}"


def test_the_final_stage_runs_as_a_fixed_non_root_uid_with_a_home(
    final: list[Instruction],
) -> None:
    """Numeric, so Kubernetes' runAsNonRoot can check it; HOME set, since slack-sdk needs a home
    directory at import and a uid given at run time may have no passwd entry."""
    user = one(final, "USER")
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) != 0, user
    assert not gid or (gid.isdigit() and int(gid) != 0), user
    env = " ".join(args(final, "ENV"))
    assert re.search(r"\bHOME=/\S+", env), env
    assert "PYTHONUNBUFFERED=1" in env
    assert "PYTHONDONTWRITEBYTECODE=1" in env


def test_the_image_serves_on_the_port_it_exposes_and_checks_healthz_there(
    final: list[Instruction],
) -> None:
    assert one(final, "EXPOSE").split() == [str(APP_PORT)]
    healthcheck = one(final, "HEALTHCHECK")
    command = json.loads(healthcheck[healthcheck.index("CMD") + 3 :])
    script = " ".join(command)
    assert command[0] == "python", "the slim image has no curl or wget"
    assert "/healthz" in script
    assert "127.0.0.1:" in script
    assert f"'{APP_PORT}'" in script or f":{APP_PORT}/" in script


def test_the_image_runs_the_console_script_and_stops_on_sigterm(final: list[Instruction]) -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert json.loads(one(final, "ENTRYPOINT")) in ([name] for name in scripts)
    command = json.loads(one(final, "CMD"))
    assert command[0] == "serve"
    assert command[command.index("--host") + 1] == "0.0.0.0"
    assert one(final, "STOPSIGNAL") == "SIGTERM"


def test_the_build_context_holds_what_the_build_copies_and_nothing_else() -> None:
    """.dockerignore excludes everything, then lets in what the build stage copies: never .git,
    .venv, .env (secrets), tests or databases."""
    entries = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert entries[0] == "*"
    let_in = {entry[1:].rstrip("/") for entry in entries if entry.startswith("!")}
    build = dockerfile_stages()[0]
    copied = {
        source.rstrip("/")
        for copy in args(build, "COPY")
        if not copy.startswith("--from=")
        for source in shlex.split(copy)[:-1]
    }
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"
    ]["find"]["include"]
    assert {name.rstrip("*") for name in packages} <= copied
    assert copied == let_in
    assert not let_in & {".git", ".venv", ".env", "tests", "rolecall.db"}


def test_postgres_has_a_volume_and_a_healthcheck(services: dict[str, dict[str, Any]]) -> None:
    db = services["db"]
    assert db["image"].startswith("postgres:")
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert any(volume.endswith(":/var/lib/postgresql/data") for volume in db["volumes"])


def test_two_replicas_start_once_the_database_is_healthy_and_publish_no_port(
    services: dict[str, dict[str, Any]],
) -> None:
    apps = app_services(services)
    replicas = sum(s.get("deploy", {}).get("replicas", 1) for s in apps.values())
    assert replicas == 2
    for name, service in apps.items():
        assert service["depends_on"]["db"]["condition"] == "service_healthy", name
        assert "ports" not in service, f"{name} is reached through the load balancer only"
        assert service["env_file"] == ".env"
        grace = re.fullmatch(r"(\d+)s", service["stop_grace_period"])
        assert grace and int(grace[1]) >= 30, "room for the shutdown's bounded drain"


def test_the_replicas_use_the_compose_postgres(services: dict[str, dict[str, Any]]) -> None:
    db = services["db"]["environment"]
    for name, service in app_services(services).items():
        url = service["environment"]["DATABASE_URL"]
        match = re.fullmatch(r"postgresql\+psycopg://([^:@]+):[^@]+@db:5432/(\w+)", url)
        assert match, f"{name}: {url}"
        assert match[1] == db["POSTGRES_USER"]
        assert match[2] == db["POSTGRES_DB"]
        assert str(service["environment"].get("PORT", APP_PORT)) == str(APP_PORT)


def test_only_the_load_balancer_publishes_a_port_and_it_is_one(
    services: dict[str, dict[str, Any]],
) -> None:
    published = {name: s["ports"] for name, s in services.items() if "ports" in s}
    assert list(published) == ["proxy"]
    (port,) = published["proxy"]
    assert str(port).endswith(":8080")
    assert re.search(r"\blisten 8080;", nginx_conf())
    proxy = services["proxy"]
    assert proxy["image"].startswith("nginx:")
    assert "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in proxy["volumes"]
    assert proxy["depends_on"]["rolecall"]["condition"] == "service_healthy"


def test_the_load_balancer_spreads_over_every_replica(services: dict[str, dict[str, Any]]) -> None:
    """The upstream names the replicas' service at the app's port and re-resolves it (`resolve`,
    Docker's DNS): every replica is in it, however many `--scale` started or restarted."""
    conf = nginx_conf()
    upstreams = dict(re.findall(r"upstream\s+(\w+)\s*\{([^}]*)\}", conf))
    assert set(re.findall(r"proxy_pass http://(\w+);", conf)) == set(upstreams)
    (body,) = upstreams.values()
    servers = re.findall(r"^\s*server\s+([^\s;]+)([^;]*);", body, re.MULTILINE)
    assert {address for address, _ in servers} == {
        f"{name}:{APP_PORT}" for name in app_services(services)
    }
    assert all("resolve" in params.split() for _, params in servers)
    assert re.search(r"^\s*zone\s", body, re.MULTILINE), "`resolve` needs a shared zone"
    assert re.search(r"\bresolver 127\.0\.0\.11\b", conf), "Docker's embedded DNS"


def test_the_load_balancer_passes_the_client_and_bounds_bodies() -> None:
    conf = nginx_conf()
    for header in ("Host", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host"):
        assert re.search(rf"proxy_set_header {header} \S+;", conf), header
    assert re.search(r"client_max_body_size 1m;", conf)
    assert MAX_BODY == 1024 * 1024  # the app's own bound, which the proxy's matches
    read_timeout = re.search(r"proxy_read_timeout (\d+)s;", conf)
    assert read_timeout and 3 < int(read_timeout[1]) <= 60, "above Slack's 3 s, bounded"
    assert "non_idempotent" not in conf, "a POST a replica received is never sent to another"
