"""a quiet time loop: working time, holidays, time away, snooze and mute

A team has working days and hours, a holiday region and how escalations reach people; a role
holder's time zone is kept; holidays and time away are tables of their own; milestones and
deadlines may be snoozed or muted. Enum values are strings: no type to alter.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 20:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TEXT = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    with op.batch_alter_table("team_settings") as batch:
        batch.add_column(
            sa.Column("work_days", _TEXT(length=20), nullable=False, server_default="0,1,2,3,4")
        )
        batch.add_column(
            sa.Column("work_start", sa.Integer(), nullable=False, server_default="540")
        )
        batch.add_column(sa.Column("work_end", sa.Integer(), nullable=False, server_default="1020"))
        batch.add_column(sa.Column("holiday_region", _TEXT(length=20), nullable=True))
        batch.add_column(
            sa.Column("escalate_by", sa.String(length=16), nullable=False, server_default="dm")
        )
        batch.add_column(
            sa.Column("quiet_week", sa.String(length=16), nullable=False, server_default="skip")
        )
    with op.batch_alter_table("role_assignment") as batch:
        batch.add_column(sa.Column("tz", _TEXT(length=64), nullable=False, server_default="UTC"))
    # Holders from before: their team's zone is the best guess until they take a role again.
    op.execute(
        "UPDATE role_assignment SET tz = COALESCE((SELECT s.timezone FROM team_settings s "
        "WHERE s.workspace_id = role_assignment.workspace_id "
        "AND s.channel_id = role_assignment.channel_id), 'UTC')"
    )
    with op.batch_alter_table("milestone") as batch:
        batch.add_column(sa.Column("owner_tz", _TEXT(length=64), nullable=True))
    for table in ("milestone", "deadline"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("snoozed_until", sa.Date(), nullable=True))
            batch.add_column(sa.Column("muted_by", _TEXT(length=32), nullable=True))
    op.create_table(
        "holiday",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", _TEXT(length=32), nullable=False),
        sa.Column("channel_id", _TEXT(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("name", _TEXT(length=100), nullable=False),
        sa.Column("added_by", _TEXT(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace_id", "channel_id", "day"),
    )
    op.create_table(
        "away",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", _TEXT(length=32), nullable=False),
        sa.Column("user_id", _TEXT(length=32), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_away_user", "away", ["workspace_id", "user_id", "last_day"])


def downgrade() -> None:
    op.drop_index("ix_away_user", table_name="away")
    op.drop_table("away")
    op.drop_table("holiday")
    for table in ("deadline", "milestone"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("muted_by")
            batch.drop_column("snoozed_until")
    with op.batch_alter_table("milestone") as batch:
        batch.drop_column("owner_tz")
    with op.batch_alter_table("role_assignment") as batch:
        batch.drop_column("tz")
    with op.batch_alter_table("team_settings") as batch:
        for column in (
            "quiet_week",
            "escalate_by",
            "holiday_region",
            "work_end",
            "work_start",
            "work_days",
        ):
            batch.drop_column(column)
