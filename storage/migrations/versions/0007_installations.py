"""installations: slack-sdk's installation and OAuth state tables, for installs by many
workspaces (OAuth v2). Their definitions come from slack-sdk itself, as its stores read them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 10:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.installations import define_tables

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    metadata = sa.MetaData()
    define_tables(metadata)
    metadata.create_all(op.get_bind())


def downgrade() -> None:
    metadata = sa.MetaData()
    define_tables(metadata)
    metadata.drop_all(op.get_bind())
