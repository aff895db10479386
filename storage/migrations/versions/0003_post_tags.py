"""post tags: find a post whose response was lost instead of posting it twice

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 20:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _tag(name: str) -> sa.Column:  # type: ignore[type-arg]
    # Rows posted before this revision carry no tag: a retry of one looks for nothing.
    return sa.Column(
        name,
        sqlmodel.sql.sqltypes.AutoString(length=32),
        nullable=False,
        server_default=sa.text("''"),
    )


def upgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.add_column(_tag("post_tag"))
    with op.batch_alter_table("scheduled_send", schema=None) as batch_op:
        batch_op.add_column(_tag("post_tag"))
        batch_op.add_column(_tag("earlier_tag"))


def downgrade() -> None:
    with op.batch_alter_table("scheduled_send", schema=None) as batch_op:
        batch_op.drop_column("earlier_tag")
        batch_op.drop_column("post_tag")
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_column("post_tag")
