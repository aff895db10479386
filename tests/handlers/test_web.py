"""The HTTP edge on the open internet: slow clients, junk and forged requests cost nothing."""

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlencode

import httpx
import pytest

from handlers.runtime import Runtime
from handlers.web import MAX_BODY, AsgiApp, HttpServer
from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient
from tests.conftest import CAROL, SIGNING_SECRET, TEAM
from tests.handlers.scenario import set_up_team

SHORT = 0.3  # seconds: the head and body timeouts of the server under test


def _payload(payload: dict[str, object]) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


@pytest.fixture
def strict_server(runtime: Runtime) -> Iterator[str]:
    """The served stack with short head and body timeouts, so a test sees them fire."""
    server = HttpServer(
        AsgiApp(runtime.endpoint, body_timeout=SHORT), "127.0.0.1", 0, head_timeout=SHORT
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.port}"
    server.stop()
    thread.join(timeout=5)


def _connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=5)


@pytest.mark.parametrize(
    "body", [b"null", b"{not json", b"\x00\xff\xfe binary", b'{"type":"url_verification"}']
)
def test_unsigned_json_is_refused_before_it_is_parsed(
    slack: SignedClient, body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        response = slack.http.post(
            slack.request_url, content=body, headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 401
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


ARABIC_INDIC_NOW = "\u0661\u0667" + "\u0660" * 8


@pytest.mark.parametrize("timestamp", ["soon", "", ARABIC_INDIC_NOW, "1e9", "-5", "9" * 40])
def test_a_timestamp_that_is_not_ascii_digits_is_a_401(
    slack: SignedClient, timestamp: str, caplog: pytest.LogCaptureFixture
) -> None:
    body = "command=%2Frole&text=&user_id=UCAROL&channel_id=CLAUNCH&trigger_id=1.2.a"
    signature = slack.verifier.generate_signature(timestamp=timestamp, body=body)
    with caplog.at_level(logging.DEBUG):
        response = slack.http.post(
            slack.request_url,
            content=body.encode(),
            headers={
                b"Content-Type": b"application/x-www-form-urlencoded",
                b"X-Slack-Request-Timestamp": timestamp.encode(),
                b"X-Slack-Signature": str(signature).encode(),
            },
        )
    assert response.status_code == 401
    assert not [r for r in caplog.records if r.exc_info]


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b"{not json"),
        ("application/json", b"[1, 2]"),
        ("application/x-www-form-urlencoded", b"payload=garbage"),
        ("application/x-www-form-urlencoded", b"payload=%7B%7D"),
        ("application/x-www-form-urlencoded", "command=/feedback&text=caf\xe9".encode("latin-1")),
        ("application/json", b'{"type": "event_callback", "event": "x"}'),
        ("application/json", b'{"type": "event_callback", "authorizations": "x"}'),
        ("application/json", b'{"type": "event_callback", "team": 5}'),
        ("application/x-www-form-urlencoded", _payload({"type": "block_actions", "team": 5})),
        ("application/x-www-form-urlencoded", _payload({"type": "block_actions", "user": ["U"]})),
        ("application/x-www-form-urlencoded", _payload({"type": "block_actions", "enterprise": 1})),
        ("application/x-www-form-urlencoded", b"{=1"),
        ("application/x-www-form-urlencoded", b"payload="),
        ("application/json", b'{"type": "x", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
        ("application/json", b'{"type": "x", "x": ' + b"[" * 950 + b"]" * 950 + b"}"),
    ],
)
def test_signed_junk_is_a_400_without_a_traceback(
    slack: SignedClient,
    fake: FakeSlack,
    content_type: str,
    body: bytes,
    caplog: pytest.LogCaptureFixture,
) -> None:
    started_with = len(fake.calls)  # auth.test, when the app started
    with caplog.at_level(logging.DEBUG):
        response = _signed_post(slack, body, content_type)
    assert response.status_code == 400
    assert not [r for r in caplog.records if r.exc_info]
    assert fake.calls[started_with:] == []


def _signed_post(slack: SignedClient, body: bytes, content_type: str) -> httpx.Response:
    """Sign raw bytes (SignedClient signs text; these bodies need not be UTF-8)."""
    import hashlib
    import hmac

    timestamp = str(int(time.time()))
    digest = hmac.new(
        SIGNING_SECRET.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256
    ).hexdigest()
    return slack.http.post(
        slack.request_url,
        content=body,
        headers={
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": f"v0={digest}",
        },
    )


@pytest.mark.parametrize(
    ("signature_headers", "status"),
    [({}, 401), ({"X-Slack-Signature": "v0=" + "0" * 64}, 413)],
)
def test_a_large_body_is_refused_unread_and_never_logged(
    strict_server: str,
    caplog: pytest.LogCaptureFixture,
    signature_headers: dict[str, str],
    status: int,
) -> None:
    """Without signature headers the body is not even read; with plausible ones (a forger can
    write those) it is read only up to the limit."""
    body = b"text=" + b"A" * (10 * 1024 * 1024)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": str(int(time.time())),
        **signature_headers,
    }
    with caplog.at_level(logging.DEBUG, logger="handlers"):
        response = httpx.post(
            f"{strict_server}/slack/events", content=body, headers=headers, timeout=10
        )
    assert response.status_code == status
    assert "AAAAAAAAAA" not in caplog.text
    assert len(caplog.text) < 2000


def test_a_body_just_under_the_limit_is_read_then_refused_unsigned(strict_server: str) -> None:
    headers = {
        "X-Slack-Request-Timestamp": str(int(time.time())),
        "X-Slack-Signature": "v0=" + "0" * 64,
    }
    response = httpx.post(
        f"{strict_server}/slack/events", content=b"x" * (MAX_BODY - 1), headers=headers, timeout=10
    )
    assert response.status_code == 401


def test_idle_and_trickling_connections_neither_stall_acks_nor_stay_open(
    strict_server: str, fake: FakeSlack
) -> None:
    idle = [_connect(strict_server) for _ in range(200)]
    trickler = _connect(strict_server)
    trickler.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\n")
    slow_body = _connect(strict_server)
    slow_body.sendall(
        b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
        b"X-Slack-Request-Timestamp: %d\r\nX-Slack-Signature: v0=%s\r\n\r\nab"
        % (int(time.time()), b"0" * 64)
    )

    client = SignedClient(f"{strict_server}/slack/events", SIGNING_SECRET, fake)
    try:
        started = time.monotonic()
        assert httpx.get(f"{strict_server}/healthz", timeout=5).json() == {"ok": True}
        set_up_team(client, fake)
        response = client.command("/feedback", "Export to CSV please", CAROL, TEAM)
        assert response.status_code == 200
        assert "sent to" in response.text
        assert time.monotonic() - started < 3
    finally:
        client.close()

    # The server closes what did not finish a head in time and answers a slow body 408.
    for connection in [*idle, trickler]:
        assert connection.recv(1024) == b""
    assert slow_body.recv(1024).startswith(b"HTTP/1.1 408")
    for connection in [*idle, trickler, slow_body]:
        connection.close()


def test_a_stop_during_start_up_ends_the_server_before_it_serves(runtime: Runtime) -> None:
    """SIGTERM can arrive between binding and serving (a replica stopped as it starts): the
    server must not then try to serve on the socket the stop closed."""
    server = HttpServer(AsgiApp(runtime.endpoint), "127.0.0.1", 0, on_stop=lambda: None)
    port = server.port
    server.stop()
    server.run()  # returns at once, without raising
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
