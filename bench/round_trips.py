"""What one routed item costs the database: statements, transactions, connection checkouts and
(on PostgreSQL) network round trips, before the ack and after it.

Serves Rolecall in this process on loopback against the fake Slack, sends signed `/feedback`
commands one at a time and waits for each card. Every connection checkout is attributed to the
thread that made it: `after-ack` threads (cards, webhooks) or the ack path (everything else).
Round trips are counted exactly on PostgreSQL, from libpq's protocol trace: each ReadyForQuery
the server sends ends one round trip; a pool's connection ping, if any, is counted as one.

Usage: python bench/round_trips.py [--database-url URL] [--items 200]
Without --database-url Rolecall uses a fresh SQLite file; with a PostgreSQL URL, a schema of its
own in that database (rolecall_bench_trips), dropped at the end.
"""

import argparse
import sys
import tempfile
import threading
from collections import Counter
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from ack_latency import PM, REPORTER, SECRET, TEAM, scratch_databases
from sqlalchemy import Engine, event

from handlers.runtime import build_runtime
from handlers.settings import Settings
from handlers.web import AsgiApp, HttpServer
from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient

WARM_UP = 20


@dataclass
class Tally:
    """Database work by path: 'ack' or 'after-ack'."""

    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, what: str, amount: int = 1) -> None:
        path = "after-ack" if threading.current_thread().name.startswith("after-ack") else "ack"
        with self.lock:
            self.counts[path, what] += amount

    def reset(self) -> None:
        with self.lock:
            self.counts.clear()


def instrument(engine: Engine, tally: Tally, folder: str) -> None:
    """Count statements, transactions and checkouts; trace each PostgreSQL checkout's protocol
    messages to a file of its own and count its round trips when it comes back."""
    postgres = engine.dialect.name == "postgresql"
    traces: dict[int, Any] = {}
    pinging = bool(getattr(engine.pool, "_pre_ping", False))

    @event.listens_for(engine, "before_cursor_execute")
    def statement(*_: Any) -> None:
        tally.add("statements")

    @event.listens_for(engine, "begin")
    def begin(*_: Any) -> None:
        tally.add("transactions")

    @event.listens_for(engine.pool, "checkout")
    def checkout(dbapi_connection: Any, *_: Any) -> None:
        tally.add("checkouts")
        if not postgres:
            return
        tally.add("round trips", int(pinging))
        trace = tempfile.TemporaryFile(dir=folder)  # noqa: SIM115 - closed at checkin
        traces[id(dbapi_connection)] = trace
        dbapi_connection.pgconn.trace(trace.fileno())

    @event.listens_for(engine.pool, "checkin")
    def checkin(dbapi_connection: Any, *_: Any) -> None:
        trace = traces.pop(id(dbapi_connection), None)
        if trace is None:
            return
        dbapi_connection.pgconn.untrace()
        trace.seek(0)
        trips = sum(1 for line in trace if b"\tReadyForQuery\t" in line)
        trace.close()
        tally.add("round trips", trips)


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--database-url", help="PostgreSQL (default: a SQLite file)")
    options.add_argument("--items", type=int, default=200)
    args = options.parse_args()
    tally = Tally()
    with FakeSlack() as fake, tempfile.TemporaryDirectory() as folder:
        fake.add_user(PM, "pm")
        fake.add_user(REPORTER, "reporter")
        fake.add_channel(TEAM, "bench", [PM, REPORTER])
        (url,), drop = scratch_databases(args.database_url, folder, ["trips"])
        settings = Settings(
            slack_bot_token="xoxb-bench",
            slack_signing_secret=SECRET,
            slack_api_url=fake.api_url,
            database_url=url,
        )
        runtime = build_runtime(settings)
        server = HttpServer(AsgiApp(runtime.endpoint), "127.0.0.1", 0, on_stop=runtime.close)
        serving = threading.Thread(target=server.run, daemon=True)
        serving.start()
        for engine in runtime.tenants.db.engines:  # PostgreSQL: the main pool and the acks'
            instrument(engine, tally, folder)
        try:
            with SignedClient(
                f"http://127.0.0.1:{server.port}/slack/events", SECRET, fake
            ) as slack:
                slack.command("/role", f"<@{PM}> product", PM, TEAM).raise_for_status()
                fake.wait_for(lambda: bool(fake.calls_to("response_url")))  # the role is set
                for phase, count in (("warm", WARM_UP), ("measured", args.items)):
                    tally.reset()
                    for index in range(count):
                        posted = len(fake.calls_to("chat.postMessage"))
                        reply = slack.command("/feedback", f"{phase} {index}", REPORTER, TEAM)
                        reply.raise_for_status()
                        fake.wait_for(partial(cards_beyond, fake, posted))
        finally:
            server.stop()
            serving.join(timeout=30)
            drop()
    report(tally, runtime.tenants.db.dialect, args.items)
    return 0


def cards_beyond(fake: FakeSlack, count: int) -> bool:
    return len(fake.calls_to("chat.postMessage")) > count


def report(tally: Tally, backend: str, items: int) -> None:
    print(f"Database work per routed /feedback item ({backend}, {items} items, one at a time)")
    whats = ["statements", "transactions", "checkouts"] + (
        ["round trips"] if backend == "postgresql" else []
    )
    print(f"{'':14}" + "".join(f"{what:>14}" for what in whats))
    for path in ("ack", "after-ack"):
        print(f"{path:14}" + "".join(f"{tally.counts[path, w] / items:>14.2f}" for w in whats))


if __name__ == "__main__":
    sys.exit(main())
