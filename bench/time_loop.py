"""Digest build time and tick time at scale, against the fake Slack Web API.

1. Seeds one team with 10k feedback items (some +1'd) and 2k blockers, and times building its
   weekly digest (the queries plus the Block Kit), several times.
2. Seeds 10k milestones due tomorrow across 1k channels and times one tick that nudges them all,
   with the fake enforcing a 1 message/second/channel limit (a faster post gets a 429 and is
   counted as a violation).

Usage: python bench/time_loop.py [--database-url URL] [--feedback 10000] [--blockers 2000]
       [--nudges 10000] [--channels 1000]
Without --database-url it uses a fresh SQLite file; with a PostgreSQL URL, a schema of its own
in that database (rolecall_bench_time), dropped at the end.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from ack_latency import scratch_databases
from sqlalchemy import text

from handlers.runtime import connect
from handlers.settings import Settings
from sandbox.fake_slack import FakeSlack
from storage.db import Database
from storage.items import ItemStore
from storage.models import Item, ItemKind, Milestone, Role
from storage.planning import PlanningStore
from storage.teams import TeamStore

ROOT = Path(__file__).resolve().parents[1]
TEAM = "CDIGEST"
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # a Monday: the default digest slot


WORKSPACE = "T0001"  # the fake Slack's workspace


def seed_digest_team(db: Database, feedback: int, blockers: int) -> None:
    teams, items = TeamStore(db, WORKSPACE), ItemStore(db, WORKSPACE)
    teams.assign(TEAM, "UPRODUCT", Role.PRODUCT, "UPRODUCT", NOW - timedelta(days=60))
    teams.assign(TEAM, "UPROJECT", Role.PROJECT, "UPROJECT", NOW - timedelta(days=60))
    for n in range(feedback + blockers):
        kind = ItemKind.FEEDBACK if n < feedback else ItemKind.BLOCKER
        # Spread over ~two months, all filed more than a day ago: a seeded item has no card, and
        # the tick would (rightly) post the cards of recent items that never got one.
        at = NOW - timedelta(days=1, minutes=7 * n + 1)
        item, _ = items.file(
            Item(
                kind=kind,
                team_channel_id=TEAM,
                text=f"{kind.value} {n}: customers report exports time out over 10k rows",
                reporter_id=f"U{n % 50:04d}",
                created_at=at,
                updated_at=at,
            )
        )
        if kind is ItemKind.FEEDBACK and n % 10 == 0 and item.id is not None:
            for voter in range(n % 7):
                items.add_vote(item.id, f"UV{voter}", at)


def analyze(db: Database) -> None:
    """Refresh the planner's statistics after a bulk seed, as autovacuum does for tables that
    grow day by day. Without it, PostgreSQL plans for empty tables: the digest's vote counts
    became a nested loop over 10,000 items (5-7 s instead of tens of ms)."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as connection:
            connection.execute(text("ANALYZE"))
            connection.commit()


def seed_nudges(db: Database, nudges: int, channels: int, due: date) -> None:
    planning = PlanningStore(db, WORKSPACE)
    for n in range(nudges):
        planning.add_milestone(
            Milestone(
                team_channel_id=f"CN{n % channels:05d}",
                name=f"Milestone {n}",
                name_key=f"milestone {n}",
                due_date=due,
                created_by="UPROJECT",
                created_at=NOW - timedelta(days=30),
                scheduled_at=NOW - timedelta(days=30),
            )
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--feedback", type=int, default=10_000)
    parser.add_argument("--blockers", type=int, default=2_000)
    parser.add_argument("--nudges", type=int, default=10_000)
    parser.add_argument("--channels", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder, FakeSlack(channel_post_interval=1.0) as fake:
        (url,), drop = scratch_databases(args.database_url, folder, ["time"])
        settings = Settings(
            slack_bot_token="xoxb-bench", slack_api_url=fake.api_url, database_url=url
        )
        services = connect(settings, lambda: NOW).services
        db = services.db
        print(f"database: {db.dialect}")

        started = time.perf_counter()
        seed_digest_team(db, args.feedback, args.blockers)
        analyze(db)
        print(
            f"seeded {args.feedback} feedback + {args.blockers} blockers "
            f"in {time.perf_counter() - started:.1f}s"
        )
        timings = []
        for _ in range(args.runs):
            started = time.perf_counter()
            digest = services.digests.content(TEAM, NOW)
            timings.append((time.perf_counter() - started) * 1000)
        blocks = sum(len(m.blocks) for m in (digest.parent, *digest.replies.values()))
        print(
            f"digest build ({args.runs} runs, {blocks} blocks): "
            f"median {statistics.median(timings):.0f} ms, max {max(timings):.0f} ms  "
            "(target < 300 ms)"
        )

        # The digest team is live too: its digest and its stale blockers' escalations go out in
        # the same tick as the nudges.
        for user in ("UPRODUCT", "UPROJECT"):
            fake.add_user(user, user.lower())
        fake.add_channel(TEAM, "digest-team", ["UPRODUCT", "UPROJECT"])
        for n in range(args.channels):
            fake.add_channel(f"CN{n:05d}", f"team-{n}", [])
        started = time.perf_counter()
        seed_nudges(db, args.nudges, args.channels, NOW.date() + timedelta(days=1))
        analyze(db)
        print(
            f"seeded {args.nudges} due nudges across {args.channels} channels "
            f"in {time.perf_counter() - started:.1f}s"
        )
        db.dispose()
        # The tick runs as operators run it, `rolecall tick --at`, in its own process: the fake
        # Slack here does not share its interpreter (and its GIL) with the bot.
        started = time.perf_counter()
        tick = subprocess.run(
            [sys.executable, "-m", "handlers", "tick", "--at", NOW.isoformat()],
            env={
                **os.environ,
                "SLACK_BOT_TOKEN": "xoxb-bench",
                "SLACK_API_URL": fake.api_url,
                "DATABASE_URL": url,
            },
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        elapsed = time.perf_counter() - started
        posted = [c for c in fake.calls if c.method == "chat.postMessage" and c.error is None]
        print(tick.stdout.strip())
        print(
            f"tick: {len(posted)} messages posted in {elapsed:.1f}s, process start included "
            f"(target < 10 s); per-channel limit violations: {len(fake.limit_violations)}"
        )
        drop()


if __name__ == "__main__":
    main()
