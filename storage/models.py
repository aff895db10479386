"""Table models. Every piece of state lives here, so a restart loses nothing."""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint
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
    timezone: str = Field(default="UTC", max_length=64)
    digest_weekday: int = Field(default=0)  # Monday, as date.weekday() counts
    digest_hour: int = Field(default=9)
    digest_minute: int = Field(default=0)
    escalation_hours: int = Field(default=24)


class Item(SQLModel, table=True):
    """A piece of feedback or a blocker, filed into one team's queue.

    The unique key on (kind, source channel, source ts) is what makes a second reaction, a Slack
    retry or a message seen both as `message` and `app_mention` file the item only once.
    """

    __tablename__ = "item"
    __table_args__ = (
        UniqueConstraint("kind", "source_channel_id", "source_ts"),
        # The queue and digest queries: one team's items of one kind and status, by age.
        Index("ix_item_queue", "team_channel_id", "kind", "status", "created_at"),
    )

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
    milestone_id: int | None = Field(default=None, foreign_key="milestone.id", index=True)
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
    """One card posted for an item. Claimed (unique) before posting so no card is sent twice.

    A row without a message_ts is a claim not (yet) posted: a failed post sets `retry_at` and the
    scheduler's next run after it posts the card; a claim whose process died is retaken after a
    lease. `post_tag` goes into the card's message metadata, so a retry first looks for a card
    whose response was lost (a timeout, a 5xx after Slack had posted it) instead of posting twice.
    """

    __tablename__ = "delivery"
    __table_args__ = (UniqueConstraint("item_id", "recipient"),)

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="item.id", index=True)
    recipient: str = Field(max_length=32)
    channel_id: str | None = Field(default=None, max_length=32)
    message_ts: str | None = Field(default=None, max_length=32)
    created_at: datetime
    attempts: int = Field(default=1)
    retry_at: datetime | None = None
    post_tag: str = Field(default="", max_length=32)


class ProcessedEvent(SQLModel, table=True):
    """Events API ids already handled: Bolt does not dedupe Slack's retries, this table does."""

    __tablename__ = "processed_event"

    event_id: str = Field(primary_key=True, max_length=64)
    received_at: datetime


class WorkStatus(StrEnum):
    OPEN = "open"
    DONE = "done"


class DatedWork(SQLModel):
    """What milestones and deadlines share: open until someone marks them done.

    `scheduled_at` is when the due date was last set: nudges planned before it are never sent, so
    adding or moving one does not trigger a stale "due tomorrow" at once.
    """

    status: str = Field(default=WorkStatus.OPEN, max_length=16)
    created_by: str = Field(max_length=32)
    created_at: datetime
    scheduled_at: datetime
    done_by: str | None = Field(default=None, max_length=32)
    done_at: datetime | None = None


class Milestone(DatedWork, table=True):
    """A dated goal of one team, nudged in the team channel until it is done."""

    __tablename__ = "milestone"
    __table_args__ = (UniqueConstraint("team_channel_id", "name_key"),)

    id: int | None = Field(default=None, primary_key=True)
    team_channel_id: str = Field(index=True, max_length=32)
    name: str = Field(max_length=200)
    name_key: str = Field(max_length=200)
    due_date: date
    owner_id: str | None = Field(default=None, max_length=32)


class Deadline(DatedWork, table=True):
    """A task one person owes by a date, nudged by DM in that person's own time zone."""

    __tablename__ = "deadline"

    id: int | None = Field(default=None, primary_key=True)
    team_channel_id: str = Field(index=True, max_length=32)
    task: str = Field(max_length=1000)
    due_date: date
    assignee_id: str = Field(max_length=32)
    assignee_tz: str = Field(default="UTC", max_length=64)


class SendStatus(StrEnum):
    CLAIMED = "claimed"
    SENT = "sent"
    FAILED = "failed"


class ScheduledSend(SQLModel, table=True):
    """One scheduled post (a nudge, an escalation, a digest part), claimed before it is posted.

    The key names the item, the kind of send and its day, so every runner (the in-process
    scheduler of each replica, `rolecall tick`) agrees on it and only the one whose insert wins
    posts. A failed post is marked failed and claimed again by a later run; a claim whose runner
    died is taken over after a lease. The recorded ts means a sent post is never sent again.
    `post_tag` is the metadata tag of the current attempt (one message may carry several sends)
    and `earlier_tag` that of the attempt before, so a retry first looks for an attempt whose
    response was lost (a timeout, a 5xx after Slack had posted it) instead of posting it again.
    """

    __tablename__ = "scheduled_send"

    key: str = Field(primary_key=True, max_length=200)
    destination: str = Field(max_length=32)
    status: str = Field(default=SendStatus.CLAIMED, max_length=16)
    attempts: int = Field(default=1)
    claimed_at: datetime
    message_ts: str | None = Field(default=None, max_length=32)
    sent_at: datetime | None = None
    retry_at: datetime | None = None  # a failed send is not claimed again before this
    post_tag: str = Field(default="", max_length=32)
    earlier_tag: str = Field(default="", max_length=32)
