"""Log lines an operator can search: JSON with the request's ids, on every thread that does the
request's work, and never a token or a secret."""

import io
import json
import logging
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlencode

import pytest
from pydantic import ValidationError
from slack_bolt import Ack, App, BoltContext
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import create_engine

from handlers.after_ack import AfterAck
from handlers.logs import (
    ContextExecutor,
    RequestContext,
    current_request,
    in_this_context,
    log_handler,
    serving,
)
from handlers.settings import Settings
from handlers.web import Endpoint

SECRET = "logs-test-secret"
TOKEN = "xoxb-1234-5678-AbCdEfGh"
REQUEST = RequestContext("TACME", "CLAUNCH", "UCAROL", "1.2.abc")
log = logging.getLogger("tests.logs")


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    """What a JSON handler on the root logger writes during the test."""
    stream = io.StringIO()
    handler = log_handler("json", stream)
    logging.getLogger().addHandler(handler)
    yield stream
    logging.getLogger().removeHandler(handler)


def records(stream: io.StringIO, logger: str) -> list[dict[str, Any]]:
    parsed = [json.loads(line) for line in stream.getvalue().splitlines()]
    return [line for line in parsed if line["logger"] == logger]


class Work:
    """A /feedback listener that logs before its ack and fails after it, like a real one."""

    def __init__(self) -> None:
        self.failed = threading.Event()

    def fail(self) -> None:
        try:
            log.warning("posting the card")
            raise RuntimeError(f"Slack refused token {TOKEN}")
        finally:
            self.failed.set()


class ResponseUrl(BaseHTTPRequestHandler):
    """Takes the apology a failed command's author is sent."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", "0")))
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass  # the test reads Rolecall's log, not this server's


@pytest.fixture
def response_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), ResponseUrl)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/respond"
    server.shutdown()
    server.server_close()


@pytest.fixture
def endpoint() -> Iterator[tuple[Endpoint, Work]]:
    after_ack = AfterAck()
    app = App(
        signing_secret=SECRET,
        authorize=lambda **_: AuthorizeResult(
            enterprise_id=None, team_id="TACME", bot_token=TOKEN, bot_user_id="UBOT"
        ),
        raise_error_for_unhandled_request=False,
        listener_executor=after_ack.listeners,
    )
    work = Work()

    @app.command("/feedback")
    def feedback(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        log.warning("filing")
        ack(text="Filed")
        after_ack.run(body, context, work.fail)

    engine = create_engine("sqlite://")
    yield Endpoint(app, engine, SECRET), work
    after_ack.shutdown()
    engine.dispose()


def test_a_request_s_lines_carry_its_ids_on_every_thread(
    endpoint: tuple[Endpoint, Work], lines: io.StringIO, response_url: str
) -> None:
    server, work = endpoint
    body = urlencode(
        {
            "command": "/feedback",
            "text": "dark mode",
            "user_id": "UCAROL",
            "channel_id": "CLAUNCH",
            "team_id": "TACME",
            "trigger_id": "1.2.abc",
            "response_url": response_url,
        }
    )
    timestamp = str(int(time.time()))
    signature = SignatureVerifier(SECRET).generate_signature(timestamp=timestamp, body=body)
    headers = {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": timestamp,
        "x-slack-signature": str(signature),
    }

    reply = server.handle("POST", "/slack/events", "", headers, body.encode(), time.monotonic())
    assert reply.status == 200
    assert work.failed.wait(5)
    deadline = time.monotonic() + 5
    while not records(lines, "handlers.errors") and time.monotonic() < deadline:
        time.sleep(0.01)  # the failure is logged just after the work returns

    ids = {"workspace": "TACME", "channel": "CLAUNCH", "user": "UCAROL", "request_id": "1.2.abc"}
    listener, after = records(lines, "tests.logs")
    assert listener.items() >= {"level": "WARNING", "message": "filing", **ids}.items()
    assert after.items() >= {"message": "posting the card", **ids}.items()
    # This request's failure (a test before may have left work that logs in its own name).
    (failure,) = [r for r in records(lines, "handlers.errors") if r.get("request_id") == "1.2.abc"]
    assert failure.items() >= {"level": "ERROR", **ids}.items()
    assert failure["message"].startswith("listener failed: type=command command=/feedback")
    assert "RuntimeError: Slack refused token xoxb-[redacted]" in failure["exception"]
    assert "Traceback" in failure["exception"]
    assert TOKEN not in lines.getvalue()
    assert "dark mode" not in lines.getvalue()
    assert current_request() is None  # the endpoint's thread is left as it was


def test_a_json_line_outside_a_request_has_no_ids(lines: io.StringIO) -> None:
    log.warning("tick: %d due", 3)

    (line,) = records(lines, "tests.logs")
    assert set(line) == {"time", "level", "logger", "message"}
    assert line["message"] == "tick: 3 due"
    assert line["time"].endswith("+00:00")


def test_text_lines_mask_tokens_and_secrets_in_messages_and_tracebacks() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("tests.logs.text")
    handler = log_handler("text", stream)
    logger.addHandler(handler)
    try:
        logger.warning("calling with %s and xapp-1-A02-303-ab9f", TOKEN)
        try:
            raise ValueError("bad signature whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        except ValueError:
            logger.exception("webhook refused")
    finally:
        logger.removeHandler(handler)

    text = stream.getvalue()
    assert "WARNING tests.logs.text: calling with xoxb-[redacted] and xapp-[redacted]" in text
    assert "ValueError: bad signature whsec_[redacted]" in text
    assert "AbCdEfGh" not in text and "MfKQ9r8" not in text and "303-ab9f" not in text


def test_a_message_whose_arguments_do_not_fit_is_still_logged(lines: io.StringIO) -> None:
    log.warning("%d items for %s", "many")

    (line,) = records(lines, "tests.logs")
    assert line["message"] == "%d items for %s (arguments not formatted: TypeError)"


def test_work_submitted_in_a_request_runs_in_its_context() -> None:
    pool = ContextExecutor(max_workers=1)
    seen: list[RequestContext | None] = []
    done = threading.Event()

    def record(_: Future[None]) -> None:
        seen.append(current_request())
        done.set()

    try:
        with serving(REQUEST):
            pool.submit(lambda: seen.append(current_request())).result()
            pool.submit(time.sleep, 0.05).add_done_callback(in_this_context(record))
        assert done.wait(5)
        seen.append(pool.submit(current_request).result())
    finally:
        pool.shutdown()

    assert seen == [REQUEST, REQUEST, None]


def test_log_format_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().log_format == "text"
    monkeypatch.setenv("LOG_FORMAT", "json")
    assert Settings().log_format == "json"
    monkeypatch.setenv("LOG_FORMAT", "xml")
    with pytest.raises(ValidationError):
        Settings()


def test_configure_logging_writes_json_lines_to_standard_error() -> None:
    script = (
        "import logging; from handlers.logs import configure_logging; "
        "configure_logging('json'); "
        f"logging.getLogger('rolecall').info('started with %s', '{TOKEN}')"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )

    (line,) = [json.loads(text) for text in result.stderr.splitlines()]
    assert line["level"] == "INFO"
    assert line["logger"] == "rolecall"
    assert line["message"] == "started with xoxb-[redacted]"
