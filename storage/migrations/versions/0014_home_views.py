"""the App Homes shown: what each person's Home last showed, and when it was published

Kept in the database, not in the process that published it: any replica (or worker, or the
process after a restart) refreshes a Home after a change it handles, with the person's own
filters, and claims the refresh on `published_at` so one publishes it per window. No rows to
carry over: the first Home each person opens after the upgrade starts theirs.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TEXT = sqlmodel.sql.sqltypes.AutoString
_WHEN = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "home_view",
        sa.Column("workspace_id", _TEXT(length=32), nullable=False),
        sa.Column("user_id", _TEXT(length=32), nullable=False),
        sa.Column("state", _TEXT(length=3000), nullable=False),
        sa.Column("published_at", _WHEN(), nullable=False),
        sa.PrimaryKeyConstraint("workspace_id", "user_id"),
    )


def downgrade() -> None:
    op.drop_table("home_view")
