"""HTTP serving: one Request URL for Slack, a health check, on the cheroot WSGI server.

Rolecall is a sync Bolt app: SQLModel sessions, slack-sdk's WebClient (with its retry handlers)
and APScheduler's background scheduler are all thread-based, so a threaded WSGI server keeps one
model of concurrency end to end. cheroot (CherryPy's server) is production-grade, pure Python,
runs in one process (one in-process scheduler per replica) and stops cleanly from another thread.
"""

import json
import threading
from collections.abc import Callable, Iterable
from typing import Any

from cheroot.wsgi import Server
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from storage.db import ping

SLACK_PATH = "/slack/events"
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def create_wsgi_app(app: App, engine: Engine) -> WSGIApp:
    slack = SlackRequestHandler(app, path=SLACK_PATH)

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz":
            try:
                ping(engine)
            except SQLAlchemyError as error:
                return _json(
                    start_response,
                    "503 Service Unavailable",
                    {"ok": False, "error": type(error).__name__},
                )
            return _json(start_response, "200 OK", {"ok": True})
        result: Iterable[bytes] = slack(environ, start_response)
        return result

    return application


def _json(start_response: Callable[..., Any], status: str, body: dict[str, Any]) -> list[bytes]:
    payload = json.dumps(body).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))]
    )
    return [payload]


class HttpServer:
    """A cheroot server bound at construction (port 0 picks a free one)."""

    def __init__(
        self,
        wsgi: WSGIApp,
        host: str,
        port: int,
        threads: int = 8,
        on_stop: Callable[[], None] = lambda: None,
        reuse_port: bool = False,
    ) -> None:
        self._server = Server(
            (host, port), wsgi, numthreads=threads, server_name="rolecall", reuse_port=reuse_port
        )
        self._server.prepare()
        self._on_stop = on_stop
        self._stopping = threading.Lock()
        self._stopped = False

    @property
    def port(self) -> int:
        return int(self._server.bind_addr[1])

    def run(self) -> None:
        """Serve until stop() is called (from any thread)."""
        self._server.serve()

    def stop(self) -> None:
        """Stop serving, then release what the app held; safe to call twice, from any thread."""
        with self._stopping:
            if self._stopped:
                return
            self._server.stop()
            self._on_stop()
            self._stopped = True

    def stop_soon(self) -> None:
        """Stop from a signal handler: never raise into the serving thread, stop beside it."""
        threading.Thread(target=self.stop, name="rolecall-stop").start()
