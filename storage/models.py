"""Table models. Every piece of state lives here, so a restart loses nothing."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel


class Role(StrEnum):
    """The two jobs Rolecall keeps apart."""

    PRODUCT = "product"
    PROJECT = "project"


class ItemKind(StrEnum):
    """Feedback belongs to the product manager, blockers to the project manager."""

    FEEDBACK = "feedback"
    BLOCKER = "blocker"

    @property
    def owner_role(self) -> Role:
        return Role.PRODUCT if self is ItemKind.FEEDBACK else Role.PROJECT


class ItemStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    PLANNED = "planned"
    DECLINED = "declined"
    DUPLICATE = "duplicate"


class RoleAssignment(SQLModel, table=True):
    """One person holding one role in one channel; a channel with any is a team."""

    __tablename__ = "role_assignment"
    __table_args__ = (UniqueConstraint("channel_id", "user_id", "role"),)

    id: int | None = Field(default=None, primary_key=True)
    channel_id: str = Field(index=True, max_length=32)
    user_id: str = Field(max_length=32)
    role: str = Field(max_length=16)
    assigned_by: str = Field(max_length=32)
    assigned_at: datetime


class TeamSettings(SQLModel, table=True):
    """Per-channel knobs; a missing row means the defaults."""

    __tablename__ = "team_settings"

    channel_id: str = Field(primary_key=True, max_length=32)
    feedback_emoji: str = Field(default="bulb", max_length=100)
    blocker_emoji: str = Field(default="no_entry", max_length=100)
    product_queue_channel: str | None = Field(default=None, max_length=32)
    project_queue_channel: str | None = Field(default=None, max_length=32)


class Item(SQLModel, table=True):
    """A piece of feedback or a blocker, filed into one team's queue.

    The unique key on (kind, source channel, source ts) is what makes a second reaction, a Slack
    retry or a message seen both as `message` and `app_mention` file the item only once.
    """

    __tablename__ = "item"
    __table_args__ = (UniqueConstraint("kind", "source_channel_id", "source_ts"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    team_channel_id: str = Field(index=True, max_length=32)
    text: str
    reporter_id: str = Field(max_length=32)
    author_id: str | None = Field(default=None, max_length=32)
    source_channel_id: str | None = Field(default=None, max_length=32)
    source_ts: str | None = Field(default=None, max_length=32)
    permalink: str | None = Field(default=None, max_length=1000)
    status: str = Field(default=ItemStatus.OPEN, max_length=16)
    handled_by: str | None = Field(default=None, max_length=32)
    created_at: datetime
    updated_at: datetime


class ItemVote(SQLModel, table=True):
    """A +1: someone else raised an item that was already queued."""

    __tablename__ = "item_vote"
    __table_args__ = (UniqueConstraint("item_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="item.id", index=True)
    user_id: str = Field(max_length=32)
    created_at: datetime


class Delivery(SQLModel, table=True):
    """One card posted for an item. Claimed (unique) before posting so no card is sent twice."""

    __tablename__ = "delivery"
    __table_args__ = (UniqueConstraint("item_id", "recipient"),)

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="item.id", index=True)
    recipient: str = Field(max_length=32)
    channel_id: str | None = Field(default=None, max_length=32)
    message_ts: str | None = Field(default=None, max_length=32)
    created_at: datetime


class ProcessedEvent(SQLModel, table=True):
    """Events API ids already handled: Bolt does not dedupe Slack's retries, this table does."""

    __tablename__ = "processed_event"

    event_id: str = Field(primary_key=True, max_length=64)
    received_at: datetime
