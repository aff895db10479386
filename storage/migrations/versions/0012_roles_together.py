"""the product/project handoff: risks, scope freeze, roadmap themes, handoffs

Risks are items of two new kinds (market, operational) and carry a likelihood; a milestone may
have a scope freeze date and a roadmap theme; themes are quarters' goals of a team; a handoff
is feedback planned into a proposed milestone or into a frozen one, waiting for (or decided
by) the project manager. Kinds and statuses are strings: no type to alter.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 18:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TEXT = sqlmodel.sql.sqltypes.AutoString
_WHEN = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "theme",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", _TEXT(length=32), nullable=False),
        sa.Column("team_channel_id", _TEXT(length=32), nullable=False),
        sa.Column("name", _TEXT(length=200), nullable=False),
        sa.Column("name_key", _TEXT(length=200), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("quarter", sa.Integer(), nullable=False),
        sa.Column("created_by", _TEXT(length=32), nullable=False),
        sa.Column("created_at", _WHEN(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace_id", "team_channel_id", "name_key"),
    )
    with op.batch_alter_table("item") as batch:
        batch.add_column(sa.Column("likelihood", sa.String(length=16), nullable=True))
    with op.batch_alter_table("milestone") as batch:
        batch.add_column(sa.Column("freeze_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("theme_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_milestone_theme_id", "theme", ["theme_id"], ["id"])
        batch.create_index("ix_milestone_theme_id", ["theme_id"])
    op.create_table(
        "handoff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", _TEXT(length=32), nullable=False),
        sa.Column("team_channel_id", _TEXT(length=32), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("milestone_id", sa.Integer(), nullable=True),
        sa.Column("name", _TEXT(length=200), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("owner_id", _TEXT(length=32), nullable=True),
        sa.Column("reason", _TEXT(length=2000), nullable=True),
        sa.Column("deferred_to", sa.Integer(), nullable=True),
        sa.Column("requested_by", _TEXT(length=32), nullable=False),
        sa.Column("requested_at", _WHEN(), nullable=False),
        sa.Column("decided_by", _TEXT(length=32), nullable=True),
        sa.Column("decided_at", _WHEN(), nullable=True),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"]),
        sa.ForeignKeyConstraint(["milestone_id"], ["milestone.id"]),
        sa.ForeignKeyConstraint(["deferred_to"], ["milestone.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_handoff_item", "handoff", ["workspace_id", "item_id"])
    op.create_index(
        "ix_handoff_milestone", "handoff", ["workspace_id", "milestone_id", "kind", "status"]
    )


def downgrade() -> None:
    op.drop_index("ix_handoff_milestone", table_name="handoff")
    op.drop_index("ix_handoff_item", table_name="handoff")
    op.drop_table("handoff")
    with op.batch_alter_table("milestone") as batch:
        batch.drop_index("ix_milestone_theme_id")
        batch.drop_constraint("fk_milestone_theme_id", type_="foreignkey")
        batch.drop_column("theme_id")
        batch.drop_column("freeze_date")
    with op.batch_alter_table("item") as batch:
        batch.drop_column("likelihood")
    op.drop_table("theme")
