"""HTTP serving: one Request URL for Slack, a health check, on the waitress WSGI server.

Rolecall is a sync Bolt app: SQLModel sessions, slack-sdk's WebClient (with its retry handlers)
and APScheduler's background scheduler are all thread-based, so a threaded WSGI server keeps one
model of concurrency end to end. waitress is production-grade, pure Python and runs one process,
which keeps the in-process scheduler single per replica.
"""

import json
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from waitress.server import create_server

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


def make_server(wsgi: WSGIApp, host: str, port: int, threads: int = 8) -> Any:
    """A waitress server bound now (port 0 picks a free one); call .run() to serve."""
    return create_server(wsgi, host=host, port=port, threads=threads, ident="rolecall")
