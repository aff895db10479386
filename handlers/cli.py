"""The `rolecall` command (also `python -m handlers`): serve, socket, tick, migrate, export,
demo."""

import argparse
import gc
import itertools
import logging
import multiprocessing
import os
import re
import resource
import signal
import socket
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, NoReturn

from slack_bolt.adapter.socket_mode import SocketModeHandler
from sqlalchemy.exc import SQLAlchemyError

from bot.clock import utc_now
from bot.export import export_items, write_csv, write_json_lines
from bot.parsing.team import LIST_FILTERS, ItemFilter
from handlers.logs import configure_logging
from handlers.runtime import build_runtime, connect, start_http
from handlers.settings import ConfigError, Settings
from handlers.web import HttpServer
from storage.db import Database, UnassignedRows, make_engine, migrate
from storage.models import ItemKind
from storage.queues import QueueStore
from storage.workspaces import WorkspaceStore

log = logging.getLogger("rolecall")
OPEN_FILES = 65536  # when the hard limit is unlimited


def _serve(args: argparse.Namespace, settings: Settings) -> None:
    """Serve HTTP; with --workers N, N processes share the port (SO_REUSEPORT).

    One process is held to one core by the GIL; extra workers use the others. All state is in
    the database, so workers need nothing from each other.
    """
    port = settings.port if args.port is None else args.port
    if port == 0 and args.workers > 1:
        port = _free_port(args.host)  # workers share a port, so it must be known up front
    server = start_http(settings, args.host, port, args.workers > 1, count_open_items=True)
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
        _run(server)
    finally:
        for worker in workers:
            worker.terminate()
        server.stop()
    _leave()


def _leave() -> NoReturn:
    """Exit without waiting for threads still stuck on a slow Slack or database: the runtime
    has stopped, finished what it could within its grace and handed back the rest's claims."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _run(server: HttpServer) -> None:
    """Serve, with everything built at start-up out of the garbage collector's reach: a full
    collection then walks only what requests create (measured: pauses of 65-124 ms that
    pushed the ack p99 past 100 ms with 1,000 connections open, 17-41 ms after). Open files
    are raised to the hard limit: each connection, idle or not, holds one (1,024 by default)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = OPEN_FILES if hard == resource.RLIM_INFINITY else hard
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    gc.freeze()
    server.run()


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def _serve_worker(host: str, port: int, ready: Any) -> None:
    settings = Settings()
    configure_logging(settings.log_format)
    server = start_http(settings, host, port, reuse_port=True, count_open_items=True)
    ready.release()
    signal.signal(signal.SIGTERM, lambda *_: server.stop_soon())
    try:
        _run(server)
    finally:
        server.stop()
    _leave()


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
    tenants = connect(settings).tenants
    try:
        report = tenants.tick(at)
    finally:
        tenants.db.dispose()
    print(
        f"tick {at.isoformat()}: {report.sent} reminders sent in {report.messages} messages, "
        f"{report.digests} digests posted, {report.cards} cards and {report.notices} notices "
        f"re-sent, {report.failed} failed (retried next run)"
    )


def _instant(text: str) -> datetime:
    """An ISO-8601 instant; one without an offset is read as UTC."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 instant: {text!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _migrate(_: argparse.Namespace, settings: Settings) -> None:
    """With a Slack configuration, as `serve` would (single-token data is assigned to the
    token's workspace); without one, only a database without single-token data upgrades."""
    if settings.oauth_enabled or settings.slack_bot_token:
        connect(settings).tenants.db.dispose()
    else:
        migrate(make_engine(settings.database_url))
    log.info("database is at the newest schema")


def _purge(args: argparse.Namespace, settings: Settings) -> None:
    """Delete one workspace's data now, instead of when its keeping period ends."""
    engine = make_engine(settings.database_url)
    try:
        workspaces = WorkspaceStore(Database(engine))
        found = workspaces.get(args.team)
        if found is not None and found.active and not args.force:
            raise ConfigError(
                f"{args.team} still has Rolecall installed: uninstall it first, or pass --force"
            )
        removed = workspaces.purge(args.team)
    finally:
        engine.dispose()
    print(f"purged {args.team}: {removed} rows deleted")


def _export(args: argparse.Namespace, settings: Settings) -> None:
    """One team's items as CSV or JSON Lines, streamed a page at a time to a file or stdout;
    the count goes to stderr, so stdout holds only the export."""
    if not re.fullmatch(r"[CG][A-Z0-9]{2,31}", args.team):
        raise ConfigError(f"--team takes a team channel's id (C…), not {args.team!r}")
    kinds = [ItemKind(args.kind)] if args.kind else list(ItemKind)
    for kind in kinds:
        if args.status not in LIST_FILTERS[kind]:
            known = " ".join(LIST_FILTERS[kind])
            raise ConfigError(
                f"--status {args.status} is not a {kind.value} filter ({known})"
                + ("" if args.kind else "; pick one kind with --kind")
            )
    engine = make_engine(settings.database_url)
    try:
        db = Database(engine)
        queues = QueueStore(db, args.workspace or _only_workspace(WorkspaceStore(db)))
        items = itertools.chain.from_iterable(
            export_items(queues, args.team, ItemFilter(kind, args.status)) for kind in kinds
        )
        write = write_csv if args.format == "csv" else write_json_lines
        if args.output is None:
            count = write(items, sys.stdout)
            sys.stdout.flush()
        else:
            with open(args.output, "w", newline="", encoding="utf-8") as out:
                count = write(items, out)
    finally:
        engine.dispose()
    where = f" to {args.output}" if args.output else ""
    print(f"exported {count} items of {args.team}{where}", file=sys.stderr)


def _only_workspace(store: WorkspaceStore) -> str:
    recorded = store.all()
    if len(recorded) != 1:
        found = ", ".join(recorded) or "none"
        raise ConfigError(f"name the workspace with --workspace (this database has: {found})")
    return recorded[0]


def _demo(_: argparse.Namespace, __: Settings) -> None:
    from handlers.demo import run_demo  # the fake Slack is loaded only for the demo

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
    purge = commands.add_parser("purge", help="delete one workspace's data now")
    purge.add_argument("--team", required=True, help="the workspace (T…) or organization (E…)")
    purge.add_argument("--force", action="store_true", help="even while it has Rolecall installed")
    purge.set_defaults(run=_purge)
    export = commands.add_parser("export", help="write one team's items as CSV or JSON Lines")
    export.add_argument("--team", required=True, help="the team channel (C…)")
    export.add_argument("--format", choices=("csv", "json"), default="csv", help="default csv")
    export.add_argument(
        "--kind",
        choices=[k.value for k in ItemKind],
        help="default: every kind, one after the other in the order listed",
    )
    export.add_argument(
        "--status",
        default="all",
        type=lambda word: word.lower().replace("_", "-"),
        help="a filter of `/feedback list` or `/blocker list`: open, planned, resolved… "
        "(default all)",
    )
    export.add_argument(
        "--workspace", help="the workspace (T…) or organization (E…); needed when there are several"
    )
    export.add_argument("--output", help="the file to write (default: stdout)")
    export.set_defaults(run=_export)
    commands.add_parser(
        "demo", help="a scripted team week against a local fake Slack"
    ).set_defaults(run=_demo)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings = Settings()
    configure_logging(settings.log_format)
    try:
        args.run(args, settings)
    except (ConfigError, UnassignedRows) as error:
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
