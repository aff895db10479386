"""The `rolecall` command (also `python -m bot`).

This module is the composition root: it alone wires storage, the domain and the Bolt listeners
together, so the rest of bot/ never depends on Bolt.
"""

import argparse
import logging
import multiprocessing
import signal
import socket
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.config import ConfigError, Settings
from bot.service import Clock, Rolecall, utc_now
from bot.slack import make_client
from bot.ticker import Ticker
from bot.timeline import Timeline
from handlers import create_app
from handlers.errors import AfterAck
from handlers.web import HttpServer, create_wsgi_app
from storage.db import make_engine, migrate
from storage.store import Store

log = logging.getLogger("rolecall")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


TICK_SECONDS = 60


@dataclass
class Runtime:
    engine: Engine
    service: Rolecall
    ticker: Ticker
    app: App
    after_ack: AfterAck
    scheduler: BackgroundScheduler | None = field(default=None)

    def start_scheduler(self) -> None:
        """Run the time loop in-process every minute (and once right away).

        APScheduler only triggers runs; what is due and what was sent lives in the database, so
        every replica may run its own scheduler and `rolecall tick` may run beside them.
        """
        scheduler = BackgroundScheduler(timezone=UTC)
        scheduler.add_job(
            lambda: self.ticker.tick(self.service.clock()),
            IntervalTrigger(seconds=TICK_SECONDS),
            id="tick",
            coalesce=True,
            max_instances=1,
            next_run_time=datetime.now(UTC),
        )
        scheduler.start()
        self.scheduler = scheduler

    def close(self) -> None:
        """Stop scheduling, finish accepted work, then release database connections."""
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=True)
        self.after_ack.shutdown()
        self.engine.dispose()


def build_ticker(settings: Settings, clock: Clock = utc_now) -> Ticker:
    """Migrate the database and build the domain: all `rolecall tick` needs (no Bolt)."""
    settings.require("slack_bot_token")
    engine = make_engine(settings.database_url)
    migrate(engine)
    client = make_client(settings.secret("slack_bot_token"), settings.slack_api_url)
    return Ticker(Timeline(Rolecall(Store(engine), client, clock)))


def build_runtime(settings: Settings, clock: Clock = utc_now) -> Runtime:
    """The domain plus the Bolt app that serves Slack's requests."""
    settings.require("slack_bot_token", "slack_signing_secret")
    ticker = build_ticker(settings, clock)
    service = ticker.service
    # Slack retries within minutes; a day of event ids is plenty to recognise them.
    service.store.prune_events(utc_now() - timedelta(days=1))
    after_ack = AfterAck()
    app = create_app(
        service, ticker, settings.secret("slack_signing_secret"), service.client, after_ack
    )
    return Runtime(service.store.engine, service, ticker, app, after_ack)


def start_http(
    settings: Settings,
    host: str,
    port: int,
    reuse_port: bool = False,
    *,
    clock: Clock = utc_now,
    schedule: bool = True,
) -> HttpServer:
    """Build everything and bind the HTTP server; the caller runs it.

    `clock` and `schedule` let tests and the demo drive time themselves.
    """
    runtime = build_runtime(settings, clock)
    if schedule:
        runtime.start_scheduler()
    wsgi = create_wsgi_app(runtime.app, runtime.engine)
    return HttpServer(wsgi, host, port, on_stop=runtime.close, reuse_port=reuse_port)


def _serve(args: argparse.Namespace, settings: Settings) -> None:
    """Serve HTTP; with --workers N, N processes share the port (SO_REUSEPORT).

    One process is held to one core by the GIL; extra workers use the others. All state is in
    the database, so workers need nothing from each other.
    """
    port = settings.port if args.port is None else args.port
    if port == 0 and args.workers > 1:
        port = _free_port(args.host)  # workers share a port, so it must be known up front
    server = start_http(settings, args.host, port, args.workers > 1)
    spawn = multiprocessing.get_context("spawn")
    ready = spawn.Semaphore(0)
    workers = [
        spawn.Process(target=_serve_worker, args=(args.host, server.port, ready), daemon=True)
        for _ in range(args.workers - 1)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        if not ready.acquire(timeout=60):
            raise ConfigError(f"a worker did not start (exit code {worker.exitcode})")
    signal.signal(signal.SIGTERM, lambda *_: server.stop_soon())
    log.info(
        "Rolecall (%d worker%s) listening on http://%s:%s/slack/events",
        args.workers,
        "s" if args.workers > 1 else "",
        args.host,
        server.port,
    )
    try:
        server.run()
    finally:
        for worker in workers:
            worker.terminate()
        server.stop()


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def configure_logging() -> None:
    """INFO for Rolecall; APScheduler's per-run "Running job" lines (two a minute) only at
    WARNING, so the log shows what a tick did, not that it ran."""
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def _serve_worker(host: str, port: int, ready: Any) -> None:
    configure_logging()
    server = start_http(Settings(), host, port, reuse_port=True)
    ready.release()
    signal.signal(signal.SIGTERM, lambda *_: server.stop_soon())
    try:
        server.run()
    finally:
        server.stop()


def _socket(_: argparse.Namespace, settings: Settings) -> None:
    settings.require("slack_app_token")
    runtime = build_runtime(settings)
    runtime.start_scheduler()
    handler = SocketModeHandler(runtime.app, settings.secret("slack_app_token"))
    try:
        handler.start()  # type: ignore[no-untyped-call]
    finally:
        runtime.close()


def _tick(args: argparse.Namespace, settings: Settings) -> None:
    """One run of the time loop at `--at` (default now), for cron, serverless or tests."""
    at = args.at or utc_now()
    ticker = build_ticker(settings)
    try:
        report = ticker.tick(at)
    finally:
        ticker.store.engine.dispose()
    print(
        f"tick {at.isoformat()}: {report.sent} reminders sent in {report.messages} messages, "
        f"{report.digests} digests posted, {report.cards} cards re-sent, "
        f"{report.failed} failed (retried next run)"
    )


def _instant(text: str) -> datetime:
    """An ISO-8601 instant; one without an offset is read as UTC."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 instant: {text!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


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
    serve.add_argument(
        "--workers", type=int, default=1, help="processes sharing the port (default 1)"
    )
    serve.set_defaults(run=_serve)
    commands.add_parser("socket", help="run over Socket Mode (needs SLACK_APP_TOKEN)").set_defaults(
        run=_socket
    )
    tick = commands.add_parser("tick", help="post every nudge and digest due now, once, and exit")
    tick.add_argument(
        "--at", type=_instant, help="the instant to run at (ISO-8601; default now; no offset = UTC)"
    )
    tick.set_defaults(run=_tick)
    commands.add_parser("migrate", help="apply database migrations").set_defaults(run=_migrate)
    commands.add_parser(
        "demo", help="a scripted team week against a local fake Slack"
    ).set_defaults(run=_demo)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    configure_logging()
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
