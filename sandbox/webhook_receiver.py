"""A webhook receiver on loopback, for tests: it checks Standard Webhooks signatures, records
every delivery, and misbehaves on request (an error status, a redirect, an answer that stalls)
the way receivers on the open internet do.

It knows nothing of Rolecall: the signature check is passed in, as a receiver's own library
would be (the tests pass `bot.webhooks.verify`).
"""

import json
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

Verify = Callable[[str, Mapping[str, str], bytes, datetime], bool]  # secret, headers, body, now


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]  # names lowercased
    body: Any  # the parsed JSON; None when the body is not JSON
    verified: bool
    status: int  # what the receiver answered


class WebhookReceiver:
    """Answers 204 to a verified delivery, 401 to a bad signature, 404 to a path with no secret,
    unless told otherwise by `respond`."""

    def __init__(
        self,
        secrets: str | Mapping[str, str],
        verify: Verify,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """`secrets`: one secret for every path, or a secret per path (`/a`, `/b`)."""
        self._secrets = secrets
        self._verify = verify
        self._clock = clock
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._script: deque[tuple[int, dict[str, str]]] = deque()
        self._open = threading.Event()  # cleared while stalled
        self._open.set()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the receiver is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> Self:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            args=(0.05,),
            daemon=True,  # quick to stop
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._open.set()  # a stalled request must not hold up shutdown
        if self._server is not None and self._thread is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def respond(
        self, status: int, times: int = 1, headers: Mapping[str, str] | None = None
    ) -> None:
        """Answer the next `times` requests with `status` (and `headers`, e.g. a `Location`),
        whatever their signature."""
        with self._lock:
            self._script.extend([(status, dict(headers or {}))] * times)

    def stall(self) -> None:
        """Hold every answer from now on until `release`: requests are recorded as they arrive
        (the receiver got them) but the sender waits, as behind a hung proxy."""
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    @property
    def deliveries(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    @property
    def unique_ids(self) -> list[str]:
        """The `webhook-id`s of verified deliveries, first seen first, each once: what a
        receiver deduplicating by id processes. One event per endpoint must show one id, however
        many attempts it took."""
        ids = (r.headers.get("webhook-id", "") for r in self.deliveries if r.verified)
        return list(dict.fromkeys(ids))

    def _secret(self, path: str) -> str | None:
        return self._secrets if isinstance(self._secrets, str) else self._secrets.get(path)

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        raw = request.rfile.read(int(request.headers.get("Content-Length") or 0))
        headers = {name.lower(): value for name, value in request.headers.items()}
        path = urlsplit(request.path).path
        secret = self._secret(path)
        verified = secret is not None and self._verify(secret, headers, raw, self._clock())
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        with self._lock:
            if self._script:
                status, extra = self._script.popleft()
            else:
                status, extra = (204 if verified else 401 if secret else 404), {}
            self._received.append(Received(path, headers, body, verified, status))
        self._open.wait()
        try:
            request.send_response(status)
            for name, value in extra.items():
                request.send_header(name, value)
            request.send_header("Content-Length", "0")
            request.end_headers()
        except ConnectionError:
            return  # the sender stopped waiting (a stalled answer): there is no one to tell


def _handler(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            receiver._handle(self)

        def log_message(self, format: str, *args: Any) -> None:
            """No access log on stderr: deliveries are recorded instead."""

    return Handler
