"""outbox: secondary indexes end with workspace_id instead of starting with it

Led by workspace_id (revision 0006), the planner could use either index for a lookup by the
primary key (workspace_id, key) while its statistics described a nearly empty outbox, and then
read every row of the workspace to find one: the first large run of the time loop slowed down
as it went. Led by their own columns, they serve the same lookups and leave the primary key as
the only index that starts with the workspace.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 13:45:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES = {
    "ix_outbox_unsent": (["workspace_id", "kind", "status"], ["kind", "status", "workspace_id"]),
    "ix_outbox_message": (
        ["workspace_id", "channel_id", "message_ts"],
        ["channel_id", "message_ts", "workspace_id"],
    ),
}


def upgrade() -> None:
    for name, (_, columns) in _INDEXES.items():
        op.drop_index(name, table_name="outbox")
        op.create_index(name, "outbox", columns)


def downgrade() -> None:
    for name, (columns, _) in _INDEXES.items():
        op.drop_index(name, table_name="outbox")
        op.create_index(name, "outbox", columns)
