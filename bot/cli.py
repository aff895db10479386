"""The `rolecall` command (also `python -m bot`).

This module is the composition root: it alone wires storage, the domain and the Bolt listeners
together, so the rest of bot/ never depends on Bolt.
"""

import argparse
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.config import ConfigError, Settings
from bot.service import Rolecall
from bot.slack import make_client
from handlers import create_app
from handlers.web import HttpServer, create_wsgi_app
from storage.db import make_engine, migrate
from storage.store import Store

log = logging.getLogger("rolecall")


@dataclass
class Runtime:
    engine: Engine
    service: Rolecall
    app: App


def build_runtime(settings: Settings) -> Runtime:
    """Migrate the database and build the service and the Bolt app for these settings."""
    settings.require("slack_bot_token", "slack_signing_secret")
    engine = make_engine(settings.database_url)
    migrate(engine)
    client = make_client(settings.secret("slack_bot_token"), settings.slack_api_url)
    service = Rolecall(Store(engine), client)
    app = create_app(service, settings.secret("slack_signing_secret"), client)
    return Runtime(engine, service, app)


def start_http(settings: Settings, host: str, port: int) -> HttpServer:
    """Build everything and bind the HTTP server; the caller runs it."""
    runtime = build_runtime(settings)
    wsgi = create_wsgi_app(runtime.app, runtime.engine)
    return HttpServer(wsgi, host, port, on_stop=runtime.engine.dispose)


def _serve(args: argparse.Namespace, settings: Settings) -> None:
    server = start_http(settings, args.host, args.port or settings.port)
    log.info("Rolecall listening on http://%s:%s/slack/events", args.host, server.port)
    server.run()


def _socket(_: argparse.Namespace, settings: Settings) -> None:
    settings.require("slack_app_token")
    runtime = build_runtime(settings)
    handler = SocketModeHandler(runtime.app, settings.secret("slack_app_token"))
    handler.start()  # type: ignore[no-untyped-call]


def _migrate(_: argparse.Namespace, settings: Settings) -> None:
    migrate(make_engine(settings.database_url))
    log.info("database is at the newest schema")


def _demo(_: argparse.Namespace, __: Settings) -> None:
    from bot.demo import run_demo

    logging.getLogger().setLevel(logging.WARNING)
    run_demo(sys.stdout)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="rolecall", description=__doc__.splitlines()[0])
    commands = root.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve Slack's Request URL over HTTP")
    serve.add_argument("--host", default="0.0.0.0", help="interface to bind (default 0.0.0.0)")
    serve.add_argument("--port", type=int, help="port (default: $PORT or 3000)")
    serve.set_defaults(run=_serve)
    commands.add_parser("socket", help="run over Socket Mode (needs SLACK_APP_TOKEN)").set_defaults(
        run=_socket
    )
    commands.add_parser("migrate", help="apply database migrations").set_defaults(run=_migrate)
    commands.add_parser(
        "demo", help="a scripted team week against a local fake Slack"
    ).set_defaults(run=_demo)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        args.run(args, Settings())
    except ConfigError as error:
        print(f"rolecall: {error}", file=sys.stderr)
        return 2
    except SQLAlchemyError as error:
        print(
            f"rolecall: cannot use the database: {error.__class__.__name__}: {error}".splitlines()[
                0
            ],
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        return 130
    return 0
