"""item: what role owners work their queues with

The thread a reporter hears back in; details from a modal (title, customer, impact,
severity); #tags; the +1 count kept on the item (queues sort by it: counting votes per page
read every vote); the reason of the last triage; the item a duplicate was merged into, or looks
like; a snooze; a blocker's assignee; the queue an item was moved from; and how many triage
changes it has had, and the button of the last.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 15:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TEXT = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    with op.batch_alter_table("item") as batch:
        batch.add_column(sa.Column("notice_thread_ts", _TEXT(length=32), nullable=True))
        batch.add_column(sa.Column("title", _TEXT(length=150), nullable=True))
        batch.add_column(sa.Column("customer", _TEXT(length=200), nullable=True))
        batch.add_column(sa.Column("impact", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("severity", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("tags", _TEXT(length=300), nullable=False, server_default=""))
        batch.add_column(sa.Column("vote_count", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("reason", _TEXT(length=2000), nullable=True))
        batch.add_column(sa.Column("duplicate_of", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("similar_to", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("snoozed_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch.add_column(sa.Column("assignee_id", _TEXT(length=32), nullable=True))
        batch.add_column(sa.Column("moved_from", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("revision", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("last_action", _TEXT(length=32), nullable=True))
        batch.create_foreign_key("fk_item_duplicate_of", "item", ["duplicate_of"], ["id"])
        batch.create_foreign_key("fk_item_similar_to", "item", ["similar_to"], ["id"])
    op.execute(
        "UPDATE item SET vote_count = (SELECT count(*) FROM item_vote "
        "WHERE item_vote.item_id = item.id)"
    )
    op.create_index(
        "ix_item_votes",
        "item",
        ["workspace_id", "team_channel_id", "kind", "status", "vote_count"],
    )
    op.create_index("ix_item_reporter", "item", ["workspace_id", "reporter_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_item_reporter", table_name="item")
    op.drop_index("ix_item_votes", table_name="item")
    with op.batch_alter_table("item") as batch:
        batch.drop_constraint("fk_item_similar_to", type_="foreignkey")
        batch.drop_constraint("fk_item_duplicate_of", type_="foreignkey")
        for column in (
            "last_action",
            "revision",
            "moved_from",
            "assignee_id",
            "snoozed_until",
            "similar_to",
            "duplicate_of",
            "reason",
            "vote_count",
            "tags",
            "severity",
            "impact",
            "customer",
            "title",
            "notice_thread_ts",
        ):
            batch.drop_column(column)
