"""Table models. Every piece of state lives here, so a restart loses nothing.

Every row carries its workspace (`workspace_id`: the installation it belongs to, see
`Workspace`), every unique key starts with it, and every store is built for one workspace, so
two workspaces with the same channel and user ids never see each other's rows.

Enum fields are typed as enums and stored as their string values (`EnumText`), so a row read
back carries `ItemKind.BLOCKER`, never a bare "blocker" to be cast again.
"""

from datetime import date, datetime
from enum import Enum, StrEnum
from typing import Any, TypeVar

from sqlalchemy import JSON, Dialect, Index, String, UniqueConstraint
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from storage.installations import define_tables

E = TypeVar("E", bound=Enum)


class EnumText(TypeDecorator[E]):
    """A StrEnum stored as its value in a VARCHAR: readable in SQL, no database enum type to
    migrate when a value is added."""

    impl = String
    cache_ok = True

    def __init__(self, enum: type[E], length: int = 16) -> None:
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: Any, dialect: Dialect) -> E | None:
        return None if value is None else self.enum(value)


class Role(StrEnum):
    """The two jobs Rolecall keeps apart."""

    PRODUCT = "product"
    PROJECT = "project"


class ItemKind(StrEnum):
    """Feedback and market risks belong to the product manager (the why and the what),
    blockers and operational risks to the project manager (the how and the when)."""

    FEEDBACK = "feedback"
    BLOCKER = "blocker"
    MARKET_RISK = "market_risk"  # demand, competitors, pricing, customers
    OPERATIONAL_RISK = "operational_risk"  # people, vendors, infrastructure, dates

    @property
    def owner_role(self) -> Role:
        product = (ItemKind.FEEDBACK, ItemKind.MARKET_RISK)
        return Role.PRODUCT if self in product else Role.PROJECT

    @property
    def is_risk(self) -> bool:
        return self in RISK_KINDS


# The kinds a person files from the commands `/feedback` and `/blocker` and their reactions.
QUEUE_KINDS = (ItemKind.FEEDBACK, ItemKind.BLOCKER)
RISK_KINDS = (ItemKind.MARKET_RISK, ItemKind.OPERATIONAL_RISK)


class ItemStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    PLANNED = "planned"
    DECLINED = "declined"
    DUPLICATE = "duplicate"
    NEEDS_INFO = "needs_info"  # the owner asked the reporter a question
    SNOOZED = "snoozed"  # out of the queue until `snoozed_until`
    MITIGATING = "mitigating"  # a risk someone is working to reduce
    ACCEPTED = "accepted"  # a risk the team chose to live with
    CLOSED = "closed"  # a risk that is gone


# Not closed: still the owner's to handle (a snoozed item comes back by itself).
OPEN_STATUSES: dict[ItemKind, tuple[ItemStatus, ...]] = {
    ItemKind.FEEDBACK: (ItemStatus.OPEN, ItemStatus.NEEDS_INFO, ItemStatus.SNOOZED),
    ItemKind.BLOCKER: (ItemStatus.OPEN, ItemStatus.ACKNOWLEDGED),
    ItemKind.MARKET_RISK: (ItemStatus.OPEN, ItemStatus.MITIGATING),
    ItemKind.OPERATIONAL_RISK: (ItemStatus.OPEN, ItemStatus.MITIGATING),
}


class Level(StrEnum):
    """A three-step scale: a feedback's impact, a blocker's severity, a risk's likelihood and
    impact."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class WorkStatus(StrEnum):
    OPEN = "open"
    DONE = "done"


class HandoffKind(StrEnum):
    """What the product manager asks of the project manager when planning feedback."""

    NEW_MILESTONE = "new_milestone"  # plan it into a milestone that does not exist yet
    SCOPE_CREEP = "scope_creep"  # plan it into a milestone whose scope is frozen


class HandoffStatus(StrEnum):
    PENDING = "pending"  # waiting for the project manager
    ACCEPTED = "accepted"
    DECLINED = "declined"  # a proposed milestone, refused with a reason
    DEFERRED = "deferred"  # scope creep sent to another milestone or the backlog
    WITHDRAWN = "withdrawn"  # the item was triaged otherwise meanwhile: nothing left to plan


class EscalationDelivery(StrEnum):
    """How an escalation reaches the project managers: one DM each, or one channel post that
    mentions them (never both)."""

    DM = "dm"
    CHANNEL = "channel"


class QuietWeek(StrEnum):
    """What a team with nothing new and nothing open gets on digest day."""

    SKIP = "skip"  # no digest at all
    LINE = "line"  # one line: "A quiet week"


class SendKind(StrEnum):
    """What an outbox row posts; it decides how a later run re-creates the message."""

    CARD = "card"  # an item's card to one recipient: re-rendered from the item
    NOTICE = "notice"  # a DM telling someone what happened: its message is stored
    REMINDER = "reminder"  # nudges and escalations: planned afresh by every run
    DIGEST = "digest"  # a digest parent or reply: planned afresh by every run
    WEBHOOK = "webhook"  # one event to one webhook endpoint: its signed body is stored


class SendStatus(StrEnum):
    QUEUED = "queued"  # due for the next claim, never tried
    CLAIMED = "claimed"
    SENT = "sent"
    FAILED = "failed"
    DEAD = "dead"  # given up (a webhook that failed too often, or its endpoint is gone)


WORKSPACE = 32  # the length of a workspace id: Slack's T… or E… ids


def workspace_field(**primary: Any) -> Any:
    """The workspace column every table starts with; stores fill it, never callers."""
    return Field(default="", max_length=WORKSPACE, **primary)


class RoleAssignment(SQLModel, table=True):
    """One person holding one role in one channel; a channel with any is a team."""

    __tablename__ = "role_assignment"
    __table_args__ = (UniqueConstraint("workspace_id", "channel_id", "user_id", "role"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = workspace_field()
    channel_id: str = Field(index=True, max_length=32)
    user_id: str = Field(max_length=32)
    role: Role = Field(sa_type=EnumText(Role))
    assigned_by: str = Field(max_length=32)
    assigned_at: datetime
    # The holder's Slack time zone when the role was given: their DMs wait for their morning.
    tz: str = Field(default="UTC", max_length=64)


class TeamSettings(SQLModel, table=True):
    """Per-channel knobs; a missing row means the defaults."""

    __tablename__ = "team_settings"

    workspace_id: str = workspace_field(primary_key=True)
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
    # Working time, in the team's zone: days as date.weekday() numbers ("0,1,2,3,4"), hours
    # as minutes after midnight. Nothing scheduled lands outside it.
    work_days: str = Field(default="0,1,2,3,4", max_length=20)
    work_start: int = Field(default=9 * 60)
    work_end: int = Field(default=17 * 60)
    holiday_region: str | None = Field(default=None, max_length=20)  # "DE-BY": public holidays
    escalate_by: EscalationDelivery = Field(
        default=EscalationDelivery.DM, sa_type=EnumText(EscalationDelivery)
    )
    quiet_week: QuietWeek = Field(default=QuietWeek.SKIP, sa_type=EnumText(QuietWeek))


class Holiday(SQLModel, table=True):
    """A day the team does not work (besides its region's public holidays)."""

    __tablename__ = "holiday"
    __table_args__ = (UniqueConstraint("workspace_id", "channel_id", "day"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = workspace_field()
    channel_id: str = Field(max_length=32)
    day: date
    name: str = Field(default="", max_length=100)
    added_by: str = Field(max_length=32)


class Away(SQLModel, table=True):
    """Days one person is away (inclusive, in their own zone): their reminders wait, and
    escalations go to someone else."""

    __tablename__ = "away"
    __table_args__ = (Index("ix_away_user", "workspace_id", "user_id", "last_day"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = workspace_field()
    user_id: str = Field(max_length=32)
    first_day: date
    last_day: date


class Item(SQLModel, table=True):
    """A piece of feedback or a blocker, filed into one team's queue.

    The unique key on (kind, source channel, source ts) is what makes a second reaction, a Slack
    retry or a message seen both as `message` and `app_mention` file the item only once.
    """

    __tablename__ = "item"
    __table_args__ = (
        UniqueConstraint("workspace_id", "kind", "source_channel_id", "source_ts"),
        # The queue and digest queries: one team's items of one kind and status, by age.
        Index("ix_item_queue", "workspace_id", "team_channel_id", "kind", "status", "created_at"),
        # A slash command files one item however often its request comes.
        Index("ux_item_request", "workspace_id", "request_id", unique=True),
        # "Most +1'd" pages of a queue, ties newest first: read backwards, a page stops after
        # its rows however many items tie.
        Index(
            "ix_item_votes", "workspace_id", "team_channel_id", "kind", "status", "vote_count", "id"
        ),
        # "What I raised", newest first.
        Index("ix_item_reporter", "workspace_id", "reporter_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = workspace_field()
    kind: ItemKind = Field(sa_type=EnumText(ItemKind))
    team_channel_id: str = Field(max_length=32)
    text: str
    reporter_id: str = Field(max_length=32)
    author_id: str | None = Field(default=None, max_length=32)
    source_channel_id: str | None = Field(default=None, max_length=32)
    source_ts: str | None = Field(default=None, max_length=32)
    # The thread the reporter hears back in (the source message's thread); None: by DM.
    notice_thread_ts: str | None = Field(default=None, max_length=32)
    permalink: str | None = Field(default=None, max_length=1000)
    status: ItemStatus = Field(default=ItemStatus.OPEN, sa_type=EnumText(ItemStatus))
    handled_by: str | None = Field(default=None, max_length=32)
    milestone_id: int | None = Field(default=None, foreign_key="milestone.id", index=True)
    request_id: str | None = Field(default=None, max_length=64)  # the filing command's trigger
    title: str | None = Field(default=None, max_length=150)  # a modal's title; else none
    customer: str | None = Field(default=None, max_length=200)  # whose words feedback carries
    impact: Level | None = Field(default=None, sa_type=EnumText(Level))  # feedback
    severity: Level | None = Field(default=None, sa_type=EnumText(Level))  # blockers
    likelihood: Level | None = Field(default=None, sa_type=EnumText(Level))  # risks
    tags: str = Field(default="", max_length=300)  # " pricing mobile ": #tags, space-padded
    vote_count: int = Field(default=0)  # +1s, kept with the votes: queues sort by it
    reason: str | None = Field(default=None, max_length=2000)  # what the last triage said
    duplicate_of: int | None = Field(default=None, foreign_key="item.id")
    similar_to: int | None = Field(default=None, foreign_key="item.id")  # a suggested original
    snoozed_until: datetime | None = None
    assignee_id: str | None = Field(default=None, max_length=32)  # a blocker handed to one holder
    moved_from: ItemKind | None = Field(default=None, sa_type=EnumText(ItemKind))
    revision: int = Field(default=0)  # triage changes so far: names each change's notice
    last_action: str | None = Field(default=None, max_length=32)  # its button (`bot.status`)
    created_at: datetime
    updated_at: datetime


class ItemVote(SQLModel, table=True):
    """A +1: someone else raised an item that was already queued."""

    __tablename__ = "item_vote"
    __table_args__ = (UniqueConstraint("item_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = workspace_field()
    item_id: int = Field(foreign_key="item.id", index=True)
    user_id: str = Field(max_length=32)
    created_at: datetime


class ProcessedEvent(SQLModel, table=True):
    """Events API ids already handled: Bolt does not dedupe Slack's retries, this table does."""

    __tablename__ = "processed_event"

    workspace_id: str = workspace_field(primary_key=True)
    event_id: str = Field(primary_key=True, max_length=64)
    received_at: datetime


class DatedWork(SQLModel):
    """What milestones and deadlines share: open until someone marks them done.

    `scheduled_at` is when the due date was last set: nudges planned before it are never sent, so
    adding or moving one does not trigger a stale "due tomorrow" at once.
    """

    status: WorkStatus = Field(default=WorkStatus.OPEN, sa_type=EnumText(WorkStatus))
    created_by: str = Field(max_length=32)
    created_at: datetime
    scheduled_at: datetime
    done_by: str | None = Field(default=None, max_length=32)
    done_at: datetime | None = None
    # Overdue reminders: none before this day (local), or none at all once muted.
    snoozed_until: date | None = None
    muted_by: str | None = Field(default=None, max_length=32)


class Milestone(DatedWork, table=True):
    """A dated goal of one team, nudged in the team channel until it is done."""

    __tablename__ = "milestone"
    __table_args__ = (UniqueConstraint("workspace_id", "team_channel_id", "name_key"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = workspace_field()
    team_channel_id: str = Field(max_length=32)
    name: str = Field(max_length=200)
    name_key: str = Field(max_length=200)
    due_date: date
    owner_id: str | None = Field(default=None, max_length=32)
    owner_tz: str | None = Field(default=None, max_length=64)  # the owner's, for their DMs
    # From this day (team time) on, feedback planned into it is scope creep.
    freeze_date: date | None = None
    theme_id: int | None = Field(default=None, foreign_key="theme.id", index=True)


class Theme(SQLModel, table=True):
    """A roadmap theme: what the product manager means to deliver in one quarter."""

    __tablename__ = "theme"
    __table_args__ = (UniqueConstraint("workspace_id", "team_channel_id", "name_key"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = workspace_field()
    team_channel_id: str = Field(max_length=32)
    name: str = Field(max_length=200)
    name_key: str = Field(max_length=200)
    year: int
    quarter: int  # 1-4
    created_by: str = Field(max_length=32)
    created_at: datetime


class Handoff(SQLModel, table=True):
    """Feedback the product manager planned, waiting for (or decided by) the project manager:
    a new milestone proposed for it, or scope creep into a frozen milestone."""

    __tablename__ = "handoff"
    __table_args__ = (
        Index("ix_handoff_item", "workspace_id", "item_id"),
        Index("ix_handoff_milestone", "workspace_id", "milestone_id", "kind", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = workspace_field()
    team_channel_id: str = Field(max_length=32)
    item_id: int = Field(foreign_key="item.id")
    kind: HandoffKind = Field(sa_type=EnumText(HandoffKind))
    status: HandoffStatus = Field(default=HandoffStatus.PENDING, sa_type=EnumText(HandoffStatus))
    # Scope creep: the frozen milestone; a new milestone: the one created once accepted.
    milestone_id: int | None = Field(default=None, foreign_key="milestone.id")
    name: str | None = Field(default=None, max_length=200)  # a proposed milestone's name
    due_date: date | None = None  # a proposed milestone's date, if the product manager gave one
    owner_id: str | None = Field(default=None, max_length=32)  # its proposed owner
    reason: str | None = Field(default=None, max_length=2000)  # why declined or deferred
    deferred_to: int | None = Field(default=None, foreign_key="milestone.id")  # None: backlog
    requested_by: str = Field(max_length=32)
    requested_at: datetime
    decided_by: str | None = Field(default=None, max_length=32)
    decided_at: datetime | None = None


class Deadline(DatedWork, table=True):
    """A task one person owes by a date, nudged by DM in that person's own time zone."""

    __tablename__ = "deadline"
    __table_args__ = (Index("ix_deadline_team", "workspace_id", "team_channel_id"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = workspace_field()
    team_channel_id: str = Field(max_length=32)
    task: str = Field(max_length=1000)
    due_date: date
    assignee_id: str = Field(max_length=32)
    assignee_tz: str = Field(default="UTC", max_length=64)


class Webhook(SQLModel, table=True):
    """An endpoint one team's events are POSTed to, signed with its own `whsec_…` secret.

    The secret is kept to sign every delivery (an HMAC key cannot be hashed away); it and the
    URL (whose path often carries a token too) stay out of the repr, so a logged row shows
    neither. Disabled, not deleted, when the receiver answers 410 or a failure that will not
    mend: the team sees why in `/rolecall webhook list`.
    """

    __tablename__ = "webhook"
    __table_args__ = (
        UniqueConstraint("workspace_id", "team_channel_id", "url"),
        # Deliveries name their endpoint by id: SQLite must not give a removed one's id again.
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = workspace_field()
    team_channel_id: str = Field(max_length=32)
    url: str = Field(max_length=500, repr=False)
    secret: str = Field(max_length=100, repr=False)
    events: str = Field(max_length=200)  # space-separated event names
    created_by: str = Field(max_length=32)
    created_at: datetime
    active: bool = True
    disabled_reason: str | None = Field(default=None, max_length=300)


class OutboxSend(SQLModel, table=True):
    """One keyed post (a card, a notice, a nudge, a digest part), claimed before it is posted.

    The key names what is sent and to whom, so every runner (an after-ack thread, the scheduler
    of each replica, `rolecall tick`) agrees on it and only the one whose claim wins posts. A
    failed post is marked failed and retried after a backoff; a claim whose runner died is taken
    over after a lease. The recorded ts means a sent post is never sent again. `post_tag` is the
    metadata tag of the current attempt (one message may carry several sends) and
    `earlier_tags` those of earlier attempts that may have reached Slack, so a retry first looks
    for an attempt whose response was lost (a timeout, a 5xx after Slack had posted it) instead
    of posting it again.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        # The retry scan of every tick looks for the few unsent rows of one kind. Only the
        # primary key starts with the workspace: the planner never mistakes these for it.
        Index("ix_outbox_unsent", "kind", "status", "workspace_id"),
        # A click on a digest row: is (channel, ts) a message we posted?
        Index("ix_outbox_message", "channel_id", "message_ts", "workspace_id"),
    )

    workspace_id: str = workspace_field(primary_key=True)
    key: str = Field(primary_key=True, max_length=200)
    kind: SendKind = Field(sa_type=EnumText(SendKind))
    item_id: int | None = Field(default=None, foreign_key="item.id", index=True)
    destination: str = Field(max_length=32)  # a channel, a person for a DM, or a webhook's id
    channel_id: str | None = Field(default=None, max_length=32)  # where it landed: for updates
    status: SendStatus = Field(default=SendStatus.CLAIMED, sa_type=EnumText(SendStatus))
    attempts: int = Field(default=1)
    created_at: datetime
    claimed_at: datetime
    retry_at: datetime | None = None  # a failed send is not claimed again before this
    message_ts: str | None = Field(default=None, max_length=32)
    sent_at: datetime | None = None
    post_tag: str = Field(default="", max_length=32)
    earlier_tags: str = Field(default="", max_length=200)  # space-separated
    message: dict[str, Any] | None = Field(default=None, sa_type=JSON)  # notices, webhooks


class HomeView(SQLModel, table=True):
    """A person's App Home as Rolecall last published it: what it showed (its filters and
    pages, as the view's private_metadata carries them) and when. A row exists once their Home
    was published (they opened the tab). Any process refreshes a Home from here, with the
    person's own filters, and claims a refresh by a conditional update of `published_at`: one
    process publishes it per window, however many handle the changes."""

    __tablename__ = "home_view"

    workspace_id: str = workspace_field(primary_key=True)
    user_id: str = Field(primary_key=True, max_length=32)
    state: str = Field(max_length=3000)  # JSON, within Slack's private_metadata limit
    published_at: datetime


class Workspace(SQLModel, table=True):
    """An installation of Rolecall and whether it may be posted to.

    `workspace_id` is the id every row of its data carries: the workspace's team id (`T…`), or
    the organization's enterprise id (`E…`) for an org-wide Enterprise Grid install, whose
    workspaces share channels and people and so share one set of rows. Inactive once Slack
    says the app was uninstalled or its bot token revoked, until it is installed again (or
    Slack sends from it again, in single-token mode); its data is kept until purged.
    """

    __tablename__ = "workspace"

    workspace_id: str = Field(primary_key=True, max_length=WORKSPACE)
    team_id: str | None = Field(default=None, max_length=32)
    enterprise_id: str | None = Field(default=None, max_length=32)
    active: bool = True
    reason: str = Field(default="", max_length=32)
    changed_at: datetime


define_tables(SQLModel.metadata)  # slack-sdk's OAuth tables live in the same schema
