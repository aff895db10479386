"""item.request_id: the slash command (its trigger id) that filed an item

A command replayed, or retried after its connection died, finds the item its first try filed
and answers the same, instead of filing a second one or saying nothing.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "item",
        sa.Column("request_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    )
    op.create_index("ux_item_request", "item", ["workspace_id", "request_id"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_item_request", table_name="item")
    with op.batch_alter_table("item") as batch:
        batch.drop_column("request_id")
