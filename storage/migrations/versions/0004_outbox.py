"""outbox: one table of keyed sends for cards, notices, reminders and digests

Replaces `delivery` (cards) and `scheduled_send` (reminders, digests): their rows move over under
the keys the code uses, so nothing sent before is sent again.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("destination", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("channel_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("claimed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("retry_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("message_ts", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("sent_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("post_tag", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("earlier_tags", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("message", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"]),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_item_id"), ["item_id"], unique=False)
        batch_op.create_index("ix_outbox_unsent", ["kind", "status"], unique=False)
        batch_op.create_index("ix_outbox_message", ["channel_id", "message_ts"], unique=False)

    # An unposted attempt may have reached Slack (a lost response): its tag stays one to look
    # for. A claim in flight gets its tag added when a later run takes it over.
    op.execute(
        """
        INSERT INTO outbox (key, kind, item_id, destination, channel_id, status, attempts,
                            created_at, claimed_at, retry_at, message_ts, sent_at, post_tag,
                            earlier_tags)
        SELECT 'card:' || CAST(item_id AS VARCHAR(20)) || ':' || recipient, 'card', item_id,
               recipient, channel_id,
               CASE WHEN message_ts IS NOT NULL THEN 'sent'
                    WHEN retry_at IS NOT NULL THEN 'failed'
                    ELSE 'claimed' END,
               attempts, created_at, created_at, retry_at, message_ts,
               CASE WHEN message_ts IS NOT NULL THEN created_at END, post_tag,
               CASE WHEN message_ts IS NULL AND retry_at IS NOT NULL THEN post_tag ELSE '' END
        FROM delivery
        """
    )
    op.execute(
        """
        INSERT INTO outbox (key, kind, destination, channel_id, status, attempts, created_at,
                            claimed_at, retry_at, message_ts, sent_at, post_tag, earlier_tags)
        SELECT key, CASE WHEN key LIKE 'digest:%' THEN 'digest' ELSE 'reminder' END,
               destination,
               CASE WHEN status = 'sent' AND key LIKE 'digest:%' THEN destination END,
               status, attempts, claimed_at, claimed_at, retry_at, message_ts, sent_at, post_tag,
               CASE status WHEN 'failed' THEN TRIM(earlier_tag || ' ' || post_tag)
                           WHEN 'claimed' THEN earlier_tag
                           ELSE '' END
        FROM scheduled_send
        """
    )
    op.drop_table("scheduled_send")
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delivery_item_id"))
    op.drop_table("delivery")


def downgrade() -> None:
    op.create_table(
        "delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("recipient", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("channel_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("message_ts", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("retry_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column(
            "post_tag",
            sqlmodel.sql.sqltypes.AutoString(length=32),
            nullable=False,
            server_default=sa.text("''"),
        ),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("item_id", "recipient"),
    )
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_delivery_item_id"), ["item_id"], unique=False)
    op.create_table(
        "scheduled_send",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("destination", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("message_ts", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("sent_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("retry_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column(
            "post_tag",
            sqlmodel.sql.sqltypes.AutoString(length=32),
            nullable=False,
            server_default=sa.text("''"),
        ),
        sa.Column(
            "earlier_tag",
            sqlmodel.sql.sqltypes.AutoString(length=32),
            nullable=False,
            server_default=sa.text("''"),
        ),
        sa.PrimaryKeyConstraint("key"),
    )
    # Notices, and lookup tags beyond the one column the old tables have, are dropped.
    op.execute(
        """
        INSERT INTO delivery (item_id, recipient, channel_id, message_ts, created_at, attempts,
                              retry_at, post_tag)
        SELECT item_id, destination, channel_id, message_ts, claimed_at, attempts,
               CASE WHEN status IN ('failed', 'queued') THEN retry_at END, post_tag
        FROM outbox WHERE kind = 'card'
        """
    )
    op.execute(
        """
        INSERT INTO scheduled_send (key, destination, status, attempts, claimed_at, message_ts,
                                    sent_at, retry_at, post_tag, earlier_tag)
        SELECT key, destination, status, attempts, claimed_at, message_ts, sent_at, retry_at,
               post_tag, CASE WHEN LENGTH(earlier_tags) <= 32 THEN earlier_tags ELSE '' END
        FROM outbox WHERE kind IN ('reminder', 'digest')
        """
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_message")
        batch_op.drop_index("ix_outbox_unsent")
        batch_op.drop_index(batch_op.f("ix_outbox_item_id"))
    op.drop_table("outbox")
