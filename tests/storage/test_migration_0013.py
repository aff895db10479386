"""Migration 0013 on a database with role holders: they keep their team's zone until they take
a role again, so a Los Angeles team's project manager is not DMed at UTC working hours."""

from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from sqlalchemy import text

from storage.db import alembic_config, make_engine


def test_existing_holders_get_their_teams_zone(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'r.db'}")
    command.upgrade(alembic_config(engine, "T0001"), "0012")
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO team_settings (workspace_id, channel_id, timezone, feedback_emoji,"
                " blocker_emoji, digest_weekday, digest_hour, digest_minute, escalation_hours)"
                " VALUES ('T0001','CLAUNCH','America/Los_Angeles','bulb','construction',0,9,0,24)"
            )
        )
        c.execute(
            text(
                "INSERT INTO role_assignment (workspace_id, channel_id, user_id, role, assigned_by,"
                " assigned_at) VALUES ('T0001','CLAUNCH','UBOB','project','UBOB', :at)"
            ),
            {"at": datetime(2026, 1, 1, tzinfo=UTC)},
        )
    command.upgrade(alembic_config(engine, "T0001"), "head")
    with engine.connect() as c:
        tz = c.execute(text("SELECT tz FROM role_assignment")).scalar_one()
    assert tz == "America/Los_Angeles"
