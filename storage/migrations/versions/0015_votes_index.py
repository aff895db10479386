"""the "most +1'd" index ends with id: a page of ties stops after its rows

A page of the most +1'd items (and the duplicate check's most +1'd candidates) is ordered by
vote_count and, among ties, by id, both descending now. The index ordered vote_count alone, so
the rows of a tie (often most of a queue: every item with one +1) were all read and sorted for
each page; read backwards along (vote_count, id), a page stops after its rows.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 05:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_QUEUE = ["workspace_id", "team_channel_id", "kind", "status"]


def upgrade() -> None:
    op.drop_index("ix_item_votes", table_name="item")
    op.create_index("ix_item_votes", "item", [*_QUEUE, "vote_count", "id"])


def downgrade() -> None:
    op.drop_index("ix_item_votes", table_name="item")
    op.create_index("ix_item_votes", "item", [*_QUEUE, "vote_count"])
