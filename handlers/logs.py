"""Log lines for humans (`LOG_FORMAT=text`, the default) or for a log pipeline (`json`: one
object per line), each said in the context of the request it serves, and never with a secret.

The request context (workspace, channel, user, event or trigger id) is a context variable set
by the HTTP endpoint for one request; the pools that run a request's work after its ack run each
task in a copy of the submitter's context (`ContextExecutor`), so their lines carry it too.
"""

import json
import logging
import re
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from contextvars import ContextVar, copy_context
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import IO, Any, Literal, ParamSpec, TypeVar

from slack_bolt import BoltContext

LogFormat = Literal["text", "json"]
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Slack tokens (bot, user, app-level, refresh…) and webhook signing secrets, wherever they appear.
SECRETS = re.compile(r"\b(?P<kind>xox[a-z]-|xapp-|whsec_)[A-Za-z0-9+/=._-]+")

P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True)
class RequestContext:
    """Who and where a request comes from; ids only, never what anyone wrote."""

    workspace: str | None = None
    channel: str | None = None
    user: str | None = None
    request_id: str | None = None  # the event id or trigger id Slack gave the request

    @classmethod
    def of(cls, body: dict[str, Any], context: BoltContext) -> "RequestContext":
        """From the ids Bolt found in the body (the same ones its listeners are given)."""
        request_id = body.get("event_id") or body.get("trigger_id")
        return cls(
            # whose rows the request touches: the organization's, for an org-wide install
            workspace=(context.enterprise_id if context.is_enterprise_install else context.team_id),
            channel=context.channel_id,
            user=context.user_id,
            request_id=request_id if isinstance(request_id, str) else None,
        )


_REQUEST: ContextVar[RequestContext | None] = ContextVar("rolecall_request", default=None)


@contextmanager
def serving(request: RequestContext) -> Iterator[None]:
    """Log lines in this block (and in work submitted from it) carry `request`."""
    token = _REQUEST.set(request)
    try:
        yield
    finally:
        _REQUEST.reset(token)


def current_request() -> RequestContext | None:
    return _REQUEST.get()


class ContextExecutor(ThreadPoolExecutor):
    """A thread pool whose tasks run in a copy of the submitter's context: work after an ack
    logs with the request it belongs to. It knows its unfinished tasks, so a shutdown can
    wait for them within a bound."""

    def __init__(self, max_workers: int, thread_name_prefix: str = "") -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix=thread_name_prefix)
        self._unfinished: set[Future[Any]] = set()
        self._tracking = threading.Lock()

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        context = copy_context()
        future = super().submit(lambda: context.run(fn, *args, **kwargs))
        with self._tracking:
            self._unfinished.add(future)
        future.add_done_callback(self._finished)
        return future

    def drain(self, timeout: float) -> int:
        """Take no more tasks; wait up to `timeout` seconds for those taken. Returns how many
        are still running (their threads cannot be stopped)."""
        self.shutdown(wait=False)
        with self._tracking:
            unfinished = set(self._unfinished)
        _, running = wait(unfinished, timeout=max(0.0, timeout))
        return len(running)

    def _finished(self, future: Future[Any]) -> None:
        with self._tracking:
            self._unfinished.discard(future)


def in_this_context(callback: Callable[[Future[T]], object]) -> Callable[[Future[T]], object]:
    """`callback` for `Future.add_done_callback`, run in the current context: a future calls it
    from whichever thread finished it, outside the task's copied context."""
    context = copy_context()
    return lambda done: context.run(callback, done)


def redact(text: str) -> str:
    """`text` with every token and secret cut to its kind: `xoxb-[redacted]`."""
    return SECRETS.sub(r"\g<kind>[redacted]", text)


class Redact(logging.Filter):
    """Masks tokens and secrets in a record's message, traceback and stack, whichever formatter
    writes it: an exception's text may quote a request, a URL or a setting."""

    _exceptions = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError, KeyError) as error:
            # Arguments that do not fit the message: say so, rather than fail the caller.
            message = f"{record.msg} (arguments not formatted: {type(error).__name__})"
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._exceptions.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (ISO, UTC), level, logger, message, the request's ids
    when there is a request, and `exception` (the traceback) for a failure."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, str] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request = current_request()
        if request is not None:
            line.update({name: value for name, value in asdict(request).items() if value})
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False)


def log_handler(log_format: LogFormat, stream: IO[str] | None = None) -> logging.Handler:
    """A handler writing `log_format` lines to `stream` (standard error), secrets masked."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    handler.addFilter(Redact())
    return handler


def configure_logging(log_format: LogFormat = "text") -> None:
    """INFO for Rolecall; APScheduler's per-run "Running job" lines (two a minute) only at
    WARNING, so the log shows what a tick did, not that it ran. httpx's INFO line per request
    quotes the whole URL, and a webhook's path or query often carries a token: WARNING too."""
    logging.basicConfig(level=logging.INFO, handlers=[log_handler(log_format)])
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
