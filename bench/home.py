"""App Home build time with a long queue: every read is a page, so it stays fast.

Seeds one team with 100,000 items (feedback and blockers in every status, some +1'd, some
#tagged) and a second, small team; one person is the product and the project manager of both,
another raised 20,000 of the items. Times `Home.view` (every read and the Block Kit, without
publishing) for the default view, each section's second page, and each filter.

Usage: python bench/home.py [--database-url URL] [--items 100000] [--runs 20]
Without --database-url it uses a fresh SQLite file; with a PostgreSQL URL, a schema of its own
in that database (rolecall_bench_home), dropped at the end. Exits 1 when a median is over the
target (100 ms).
"""

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ack_latency import scratch_databases
from slack_sdk import WebClient
from sqlalchemy import insert, text

from bot.blocks.home import HomeState, Section
from bot.home import Home
from bot.membership import Membership
from sandbox.fake_slack import FakeSlack
from storage.db import Database, make_engine, migrate
from storage.models import (
    Deadline,
    Item,
    ItemKind,
    ItemStatus,
    Milestone,
    Role,
)
from storage.planning import PlanningStore
from storage.queues import QueueStore
from storage.teams import TeamStore

WORKSPACE = "T0001"
BIG, SMALL = "CBIG", "CSMALL"
MANAGER, REPORTER = "UMANAGER", "UREPORTER"
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
TARGET_MS = 100.0
RARE = range(1, 60, 5)  # a tag on a few of the newest items: the oldest-first read scans
FEEDBACK_STATUSES = [ItemStatus.OPEN] * 5 + [
    ItemStatus.NEEDS_INFO,
    ItemStatus.SNOOZED,
    ItemStatus.PLANNED,
    ItemStatus.DECLINED,
    ItemStatus.DUPLICATE,
]
BLOCKER_STATUSES = [ItemStatus.OPEN, ItemStatus.ACKNOWLEDGED, ItemStatus.RESOLVED]


def seed(db: Database, items: int) -> None:
    teams, planning = TeamStore(db, WORKSPACE), PlanningStore(db, WORKSPACE)
    for team in (BIG, SMALL):
        for role in Role:
            teams.assign(team, MANAGER, role, MANAGER, NOW - timedelta(days=90))
    rows: list[dict[str, Any]] = []
    for team, count in ((BIG, items), (SMALL, 2_000)):
        for n in range(count):
            kind = ItemKind.BLOCKER if n % 5 == 0 else ItemKind.FEEDBACK
            statuses = BLOCKER_STATUSES if kind is ItemKind.BLOCKER else FEEDBACK_STATUSES
            at = NOW - timedelta(minutes=3 * n + 1)
            rows.append(
                {
                    "workspace_id": WORKSPACE,
                    "kind": kind.value,
                    "team_channel_id": team,
                    "text": f"{kind.value} {n}: exports time out over 10k rows",
                    "reporter_id": REPORTER if n % 5 == 1 else f"U{n % 50:04d}",
                    "source_channel_id": team,
                    "source_ts": f"{1_700_000_000 + n}.000100",
                    "status": statuses[(n // 5) % len(statuses)].value,
                    "tags": " pricing " if n % 20 == 3 else " rare " if n in RARE else "",
                    "vote_count": n % 9 if n % 10 == 2 else 0,
                    "handled_by": MANAGER,
                    "created_at": at,
                    "updated_at": at,
                }
            )
    with db.engine.begin() as connection:
        for start in range(0, len(rows), 5_000):
            connection.execute(insert(Item), rows[start : start + 5_000])
    for n in range(30):
        planning.add_milestone(
            Milestone(
                team_channel_id=BIG,
                name=f"Milestone {n}",
                name_key=f"milestone {n}",
                due_date=NOW.date() + timedelta(days=n - 5),
                created_by=MANAGER,
                created_at=NOW,
                scheduled_at=NOW,
            )
        )
    for n in range(50):
        planning.add_deadline(
            Deadline(
                team_channel_id=BIG,
                task=f"Task {n}",
                due_date=date(2026, 11, 1) + timedelta(days=n),
                assignee_id=MANAGER if n % 2 else REPORTER,
                created_by=MANAGER,
                created_at=NOW,
                scheduled_at=NOW,
            )
        )
    with db.engine.begin() as connection:
        connection.execute(text("ANALYZE"))


def second_pages(home: Home) -> HomeState:
    """The state after "Show more" in every section of the default view."""
    view = home.view(MANAGER)
    state = HomeState()
    for block in view["blocks"]:
        for element in block.get("elements", []):
            if element.get("action_id") == "home_more":
                carried = json.loads(element["value"])
                state = state.paged(Section(carried["s"]), carried["c"])
    return state


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder, FakeSlack() as fake:
        (url,), drop = scratch_databases(args.database_url, folder, ["home"])
        engine = make_engine(url)
        try:
            migrate(engine)
            db = Database(engine)
            print(f"database: {db.dialect}")
            started = time.perf_counter()
            seed(db, args.items)
            print(f"seeded {args.items:,} + 2,000 items in {time.perf_counter() - started:.1f}s")
            # Slack is asked only who is in each team's channel (kept a minute: the first
            # build of each case asks); nothing is published.
            for team in (BIG, SMALL):
                fake.add_channel(team, team.lower(), [MANAGER, REPORTER])
            client = WebClient(token=fake.token, base_url=fake.api_url)
            home = Home(
                QueueStore(db, WORKSPACE),
                TeamStore(db, WORKSPACE),
                PlanningStore(db, WORKSPACE),
                client,
                lambda: NOW,
                membership=Membership(client),
            )
            cases = {
                "manager, default": (MANAGER, HomeState()),
                "manager, second pages": (MANAGER, second_pages(home)),
                "manager, one team": (MANAGER, HomeState(team=BIG)),
                "manager, planned": (MANAGER, HomeState(status=ItemStatus.PLANNED)),
                "manager, needs info": (MANAGER, HomeState(status=ItemStatus.NEEDS_INFO)),
                "manager, #pricing": (MANAGER, HomeState(tag="pricing")),
                "manager, #nothing": (MANAGER, HomeState(tag="nothing")),
                "manager, #rare": (MANAGER, HomeState(tag="rare")),
                "reporter, no role": (REPORTER, HomeState()),
            }
            slow = False
            for name, (user, state) in cases.items():
                timings = []
                for _ in range(args.runs):
                    started = time.perf_counter()
                    view = home.view(user, state)
                    timings.append((time.perf_counter() - started) * 1000)
                median = statistics.median(timings)
                slow |= median > TARGET_MS
                print(
                    f"{name:<24} {len(view['blocks']):>3} blocks  median {median:6.1f} ms  "
                    f"max {max(timings):6.1f} ms  (target < {TARGET_MS:.0f} ms)"
                )
        finally:
            engine.dispose()
            drop()
    sys.exit(1 if slow else 0)


if __name__ == "__main__":
    main()
