"""Exactly once across processes: parallel `rolecall tick`s and three `rolecall serve` replicas
on one database (SQLite always, PostgreSQL when TEST_POSTGRES_URL is set) post each nudge and
each digest message once."""

import os
import re
import subprocess
import sys
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sandbox.fake_slack import FakeSlack
from storage.db import Database, make_engine
from storage.models import Deadline, Milestone, Role, TeamSettings
from storage.planning import PlanningStore
from storage.teams import TeamStore
from tests.conftest import BOB, CAROL, TEAM, WORKSPACE
from tests.test_cli import ROOT, run_cli, serving

LONG_AGO = datetime(2026, 1, 5, tzinfo=UTC)


def seed(database_url: str, today: date) -> None:
    """A team at work around the clock with 30 overdue milestones, an overdue deadline and a
    stale blocker."""
    engine = make_engine(database_url)
    db = Database(engine)
    teams = TeamStore(db, WORKSPACE)
    teams.assign(TEAM, BOB, Role.PROJECT, BOB, LONG_AGO)
    # At work every day, all day: the replicas tick at the real time, whatever it is.
    always = TeamSettings(
        channel_id=TEAM, work_days="0,1,2,3,4,5,6", work_start=0, work_end=24 * 60
    )
    teams.save_settings(always)
    planning = PlanningStore(db, WORKSPACE)
    for n in range(30):
        planning.add_milestone(
            Milestone(
                team_channel_id=TEAM,
                name=f"M{n}",
                name_key=f"m{n}",
                due_date=today - timedelta(days=3),
                created_by=BOB,
                created_at=LONG_AGO,
                scheduled_at=LONG_AGO,
            )
        )
    planning.add_deadline(
        Deadline(
            team_channel_id=TEAM,
            task="Spec",
            due_date=today - timedelta(days=3),
            assignee_id=CAROL,
            created_by=BOB,
            created_at=LONG_AGO,
            scheduled_at=LONG_AGO,
        )
    )
    engine.dispose()


def bot_posts(fake: FakeSlack) -> list[dict[str, Any]]:
    return [
        m for messages in fake.messages.values() for m in messages if m["user"] == fake.bot_user_id
    ]


def assert_each_posted_once(fake: FakeSlack) -> None:
    posts = bot_posts(fake)
    top = [
        m for m in fake.messages[TEAM] if m["user"] == fake.bot_user_id and not m.get("thread_ts")
    ]
    # #launch: one digest parent with two replies (overdue milestones are not said there).
    assert len(top) == 1, [m["text"] for m in top]
    [digest] = top
    assert "Weekly digest" in digest["text"]
    assert len([m for m in posts if m.get("thread_ts") == digest["ts"]]) == 2
    # DMs: Carol's overdue deadline; Bob, the project manager, gets the 30 overdue milestones
    # (they have no owner) and Carol's deadline in one message.
    assert Counter(channel for channel, ms in fake.messages.items() if ms and channel != TEAM) == {
        fake.dm_channel(CAROL): 1,
        fake.dm_channel(BOB): 1,
    }
    assert [len(fake.dms_to(CAROL)), len(fake.dms_to(BOB))] == [1, 1]
    assert fake.dms_to(BOB)[0]["text"] == "31 reminders for you"


def workspace(fake: FakeSlack) -> None:
    fake.add_user(BOB, "bob")
    fake.add_user(CAROL, "carol")
    fake.add_channel(TEAM, "launch", [BOB, CAROL])


def test_two_ticks_in_parallel_processes_post_everything_once(database_url: str) -> None:
    at = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
    seed(database_url, at.date())
    with FakeSlack() as fake:
        workspace(fake)
        env = {
            "SLACK_BOT_TOKEN": "xoxb-tick",
            "SLACK_API_URL": fake.api_url,
            "DATABASE_URL": database_url,
        }
        run_cli("migrate", env=env)  # both ticks then start from a migrated schema
        ticks = [
            subprocess.Popen(
                [sys.executable, "-m", "handlers", "tick", "--at", at.isoformat()],
                env={**_clean_env(), **env},
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        outputs = [t.communicate(timeout=60) for t in ticks]
        assert [t.returncode for t in ticks] == [0, 0], outputs
        assert_each_posted_once(fake)
        reports = [re.search(r"(\d+) reminders sent", out) for out, _ in outputs]
        assert sum(int(r.group(1)) for r in reports if r) == 32  # 30 milestones + 2 deadline

        again = run_cli("tick", "--at", at.isoformat(), env=env)
        assert again.stdout.startswith(f"tick {at.isoformat()}: 0 reminders sent in 0 messages")
        assert_each_posted_once(fake)


def test_three_serve_replicas_run_the_scheduler_and_post_everything_once(
    database_url: str,
) -> None:
    """Each replica's in-process scheduler ticks as it starts, at the real time: the seeded
    things are overdue whatever the time of day, and the digest's latest slot has passed."""
    seed(database_url, datetime.now(UTC).date())
    with FakeSlack() as fake:
        workspace(fake)
        env = {"SLACK_API_URL": fake.api_url, "DATABASE_URL": database_url, "PORT": "0"}
        run_cli("migrate", env=env)
        with serving(env), serving(env), serving(env):
            fake.wait_for(lambda: len(bot_posts(fake)) >= 5, timeout=30)
        # Leaving the block stopped the replicas; each waited for its running tick to end.
        assert_each_posted_once(fake)


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
