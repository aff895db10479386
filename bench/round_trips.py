"""What one routed item costs the database: statements, transactions, connection checkouts and
(on PostgreSQL) network round trips, before the ack and after it.

Serves Rolecall in this process on loopback against the fake Slack, sends signed `/feedback`
commands one at a time and waits for each card. Every connection checkout is attributed to the
thread that made it: `after-ack` threads (cards, webhooks) or the ack path (everything else).
Round trips are counted exactly on PostgreSQL, from libpq's protocol trace (`sandbox/wire.py`):
each ReadyForQuery the server sends ends one round trip.

Usage: python bench/round_trips.py [--database-url URL] [--items 200]
Without --database-url Rolecall uses a fresh SQLite file; with a PostgreSQL URL, a schema of its
own in that database (rolecall_bench_trips), dropped at the end.
"""

import argparse
import sys
import tempfile
import threading
from functools import partial

from ack_latency import PM, REPORTER, SECRET, TEAM, add_bench_team, scratch_databases

from handlers.runtime import build_runtime
from handlers.settings import Settings
from handlers.web import AsgiApp, HttpServer
from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient
from sandbox.wire import Wire, watching

WARM_UP = 20


def path() -> str:
    """Whose database work this is: the after-ack pool's threads, or the ack's."""
    return "after-ack" if threading.current_thread().name.startswith("after-ack") else "ack"


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--database-url", help="PostgreSQL (default: a SQLite file)")
    options.add_argument("--items", type=int, default=200)
    args = options.parse_args()
    with FakeSlack() as fake, tempfile.TemporaryDirectory() as folder:
        add_bench_team(fake)
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
        try:
            with (
                watching(runtime.tenants.db.engines, path) as wire,
                SignedClient(f"http://127.0.0.1:{server.port}/slack/events", SECRET, fake) as slack,
            ):
                slack.command("/role", f"<@{PM}> product", PM, TEAM).raise_for_status()
                fake.wait_for(lambda: bool(fake.calls_to("response_url")))  # the role is set
                for phase, count in (("warm", WARM_UP), ("measured", args.items)):
                    wire.clear()
                    for index in range(count):
                        posted = len(fake.calls_to("chat.postMessage"))
                        reply = slack.command("/feedback", f"{phase} {index}", REPORTER, TEAM)
                        reply.raise_for_status()
                        fake.wait_for(partial(cards_beyond, fake, posted))
        finally:
            server.stop()
            serving.join(timeout=30)
            drop()
    report(wire, runtime.tenants.db.dialect, args.items)
    return 0


def cards_beyond(fake: FakeSlack, count: int) -> bool:
    return len(fake.calls_to("chat.postMessage")) > count


def report(wire: Wire, backend: str, items: int) -> None:
    print(f"Database work per routed /feedback item ({backend}, {items} items, one at a time)")
    columns = {
        "statements": lambda at: len(wire.sql(at)),
        "transactions": wire.transactions.count,
        "checkouts": wire.checkouts.count,
    }
    if backend == "postgresql":
        columns["round trips"] = wire.round_trips
    print(f"{'':14}" + "".join(f"{name:>14}" for name in columns))
    for at in ("ack", "after-ack"):
        print(f"{at:14}" + "".join(f"{count(at) / items:>14.2f}" for count in columns.values()))


if __name__ == "__main__":
    sys.exit(main())
