"""Every query Rolecall runs. Callers get detached model objects, never sessions."""

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, delete, func, insert, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.models import (
    Deadline,
    Delivery,
    Item,
    ItemKind,
    ItemStatus,
    ItemVote,
    Milestone,
    ProcessedEvent,
    Role,
    RoleAssignment,
    ScheduledSend,
    SendStatus,
    TeamSettings,
    WorkStatus,
)

OPEN_STATUSES: dict[ItemKind, tuple[ItemStatus, ...]] = {
    ItemKind.FEEDBACK: (ItemStatus.OPEN,),
    ItemKind.BLOCKER: (ItemStatus.OPEN, ItemStatus.ACKNOWLEDGED),
}


# The per-item hot path runs these prebuilt statements with parameters: SQLAlchemy compiles each
# once, where building a statement per call costs more than the database work itself.
_HOLDERS = (
    select(RoleAssignment.user_id)
    .where(
        RoleAssignment.channel_id == bindparam("channel_id"),
        RoleAssignment.role == bindparam("role"),
    )
    .order_by(col(RoleAssignment.assigned_at), col(RoleAssignment.id))
)
_QUEUE_CHANNELS = select(
    TeamSettings.product_queue_channel, TeamSettings.project_queue_channel
).where(TeamSettings.channel_id == bindparam("channel_id"))
_INSERT_ITEM = insert(Item).returning(col(Item.id))
_CLAIM_DELIVERY = insert(Delivery).returning(col(Delivery.id))
_RECORD_DELIVERY = (
    update(Delivery)
    .where(col(Delivery.id) == bindparam("delivery_id"))
    .values(channel_id=bindparam("channel_id"), message_ts=bindparam("message_ts"))
)
_CLAIM_EVENT = insert(ProcessedEvent)


@dataclass(frozen=True)
class QueuedItem:
    item: Item
    votes: int


@dataclass(frozen=True)
class TrackedMilestone:
    """A milestone with its open linked blockers: any makes it at risk."""

    milestone: Milestone
    open_blockers: int

    @property
    def at_risk(self) -> bool:
        return self.open_blockers > 0


@dataclass(frozen=True)
class Team:
    """A channel with roles, its settings, and when its first role was taken."""

    settings: TeamSettings
    since: datetime


@dataclass(frozen=True)
class Counted:
    """The first few rows of a list and how many there are in all."""

    shown: list[QueuedItem]
    total: int


@dataclass(frozen=True)
class ProductDigest:
    filed_by_status: dict[str, int]
    filed: list[QueuedItem]
    waiting: Counted
    most_voted: list[QueuedItem]


@dataclass(frozen=True)
class ProjectDigest:
    open_blockers: Counted
    resolved: Counted
    milestones_soon: list[TrackedMilestone]
    overdue_milestones: list[TrackedMilestone]
    overdue_deadlines: list[Deadline]


class Store:
    """Queries over one engine; each method is its own short transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # SQLite allows one writer; queueing writers on a lock here beats SQLite's busy-wait
        # backoff by far. PostgreSQL needs no such lock.
        self._write_lock: AbstractContextManager[object] = (
            threading.Lock() if engine.dialect.name == "sqlite" else nullcontext()
        )

    def _session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    @contextmanager
    def _writing(self) -> Iterator[Session]:
        """A session for a write transaction, serialised per process on SQLite."""
        with self._write_lock, self._session() as session:
            yield session

    @contextmanager
    def _fast_write(self) -> Iterator[Connection]:
        """A Core transaction for the per-item hot path (no ORM unit of work); commits on exit."""
        with self._write_lock, self.engine.begin() as connection:
            yield connection

    # Roles -------------------------------------------------------------------------------

    def roles(self, channel_id: str) -> list[RoleAssignment]:
        with self._session() as session:
            query = (
                select(RoleAssignment)
                .where(RoleAssignment.channel_id == channel_id)
                .order_by(col(RoleAssignment.role), col(RoleAssignment.assigned_at))
            )
            return list(session.exec(query))

    def holders(self, channel_id: str, role: Role) -> list[str]:
        with self.engine.connect() as connection:
            found = connection.execute(_HOLDERS, {"channel_id": channel_id, "role": role})
            return list(found.scalars())

    def routing(self, channel_id: str, role: Role) -> tuple[list[str], str | None]:
        """The role's holders and the team's queue channel for it, in one round trip."""
        with self.engine.connect() as connection:
            found = connection.execute(_HOLDERS, {"channel_id": channel_id, "role": role})
            holders = list(found.scalars())
            queues = connection.execute(_QUEUE_CHANNELS, {"channel_id": channel_id}).first()
        if queues is None:
            return holders, None
        return holders, queues[0] if role is Role.PRODUCT else queues[1]

    def assign_role(
        self, channel_id: str, user_id: str, role: Role, by: str, now: datetime
    ) -> bool:
        """Give `user_id` the role; False when they already held it."""
        assignment = RoleAssignment(
            channel_id=channel_id, user_id=user_id, role=role, assigned_by=by, assigned_at=now
        )
        with self._writing() as session:
            session.add(assignment)
            try:
                session.commit()
            except IntegrityError:
                return False
        return True

    def remove_role(self, channel_id: str, user_id: str, role: Role) -> bool:
        with self._writing() as session:
            result = session.execute(
                delete(RoleAssignment).where(
                    col(RoleAssignment.channel_id) == channel_id,
                    col(RoleAssignment.user_id) == user_id,
                    col(RoleAssignment.role) == role,
                )
            )
            session.commit()
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def roles_of_user(self, user_id: str) -> list[RoleAssignment]:
        with self._session() as session:
            query = select(RoleAssignment).where(RoleAssignment.user_id == user_id)
            return list(session.exec(query.order_by(col(RoleAssignment.channel_id))))

    # Settings ----------------------------------------------------------------------------

    def settings(self, channel_id: str) -> TeamSettings:
        with self._session() as session:
            found = session.get(TeamSettings, channel_id)
            return found or TeamSettings(channel_id=channel_id)

    def save_settings(self, settings: TeamSettings) -> None:
        with self._writing() as session:
            session.merge(settings)
            session.commit()

    # Items -------------------------------------------------------------------------------

    def file_item(self, item: Item) -> tuple[Item, bool]:
        """Insert the item, or return the one already filed for the same source message."""
        values = item.model_dump(exclude={"id"})
        try:
            with self._fast_write() as connection:
                item.id = connection.execute(_INSERT_ITEM, values).scalar_one()
            return item, True
        except IntegrityError:
            pass
        assert item.source_channel_id is not None and item.source_ts is not None
        existing = self.find_by_source(ItemKind(item.kind), item.source_channel_id, item.source_ts)
        assert existing is not None, "a unique violation implies the row exists"
        return existing, False

    def find_by_source(self, kind: ItemKind, channel_id: str, ts: str) -> Item | None:
        with self._session() as session:
            query = select(Item).where(
                Item.kind == kind, Item.source_channel_id == channel_id, Item.source_ts == ts
            )
            return session.exec(query).first()

    def set_permalink(self, item_id: int | None, permalink: str) -> None:
        with self._writing() as session:
            session.execute(update(Item).where(col(Item.id) == item_id).values(permalink=permalink))
            session.commit()

    def item(self, item_id: int) -> Item | None:
        with self._session() as session:
            return session.get(Item, item_id)

    def add_vote(self, item_id: int, user_id: str, now: datetime) -> bool:
        """Count a +1; False when this person had already counted."""
        with self._writing() as session:
            session.add(ItemVote(item_id=item_id, user_id=user_id, created_at=now))
            try:
                session.commit()
            except IntegrityError:
                return False
        return True

    def transition(
        self,
        item_id: int,
        allowed_from: Iterable[ItemStatus],
        to: ItemStatus,
        by: str,
        now: datetime,
    ) -> bool:
        """Move the item's status only if it is still in `allowed_from` (safe across replicas)."""
        with self._writing() as session:
            result = session.execute(
                update(Item)
                .where(col(Item.id) == item_id, col(Item.status).in_(list(allowed_from)))
                .values(status=to, handled_by=by, updated_at=now)
            )
            session.commit()
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def open_items(self, team_channel_id: str, kind: ItemKind) -> list[QueuedItem]:
        """The team's open queue, oldest first, with +1 counts."""
        return self._queued(self._queue_query(team_channel_id, kind))

    def undelivered_items(self, team_channel_id: str, kind: ItemKind) -> list[QueuedItem]:
        """Open items that never reached anyone: the ones waiting for a role holder."""
        query = self._queue_query(team_channel_id, kind)
        return self._queued(query.where(col(Item.id).not_in(_POSTED_ITEMS)))

    @staticmethod
    def _queue_query(team_channel_id: str, kind: ItemKind) -> Any:
        return _with_votes(
            Item.team_channel_id == team_channel_id,
            Item.kind == kind,
            col(Item.status).in_(OPEN_STATUSES[kind]),
        ).order_by(col(Item.created_at), col(Item.id))

    def _queued(self, query: Any) -> list[QueuedItem]:
        with self._session() as session:
            return [QueuedItem(item, int(count)) for item, count in session.execute(query)]

    # Deliveries --------------------------------------------------------------------------

    def claim_delivery(self, item_id: int, recipient: str, now: datetime, tag: str) -> int | None:
        """Reserve the right to post this item to `recipient` as a card carrying the metadata
        `tag`; None if someone already did."""
        claim = {"item_id": item_id, "recipient": recipient, "created_at": now, "post_tag": tag}
        try:
            with self._fast_write() as connection:
                claimed = connection.execute(_CLAIM_DELIVERY, claim).scalar_one()
        except IntegrityError:
            return None
        return claimed

    def record_delivery(self, delivery_id: int, channel_id: str, message_ts: str) -> None:
        with self._fast_write() as connection:
            connection.execute(
                _RECORD_DELIVERY,
                {"delivery_id": delivery_id, "channel_id": channel_id, "message_ts": message_ts},
            )

    def queue_delivery(self, item_id: int, recipient: str, now: datetime, tag: str) -> None:
        """A claim that is due for a retry at once (a card nobody ever tried to post)."""
        claim = {
            "item_id": item_id,
            "recipient": recipient,
            "created_at": now,
            "retry_at": now,
            "post_tag": tag,
        }
        try:
            with self._fast_write() as connection:
                connection.execute(_CLAIM_DELIVERY, claim)
        except IntegrityError:
            pass  # claimed meanwhile: whoever holds it posts it

    def fail_delivery(self, delivery_id: int, now: datetime) -> None:
        """Keep the claim of a card whose post failed, to be retried by a later run after a
        backoff that doubles from one minute to an hour."""
        with self._writing() as session:
            delivery = session.get(Delivery, delivery_id)
            if delivery is None or delivery.message_ts is not None:
                return
            delivery.retry_at = now + _retry_backoff(delivery.attempts)
            session.commit()

    def deliveries_to_retry(self, now: datetime, stale_before: datetime) -> list[Delivery]:
        """Unposted claims of open items that failed and are due again, or whose process died."""
        with self._session() as session:
            query = (
                select(Delivery)
                .join(Item, col(Item.id) == Delivery.item_id)
                .where(_retryable(now, stale_before), _OPEN_ITEM)
                .order_by(col(Delivery.id))
            )
            return list(session.exec(query))

    def retake_delivery(self, delivery_id: int, now: datetime, stale_before: datetime) -> bool:
        """Take over an unposted claim for this run; only one runner wins it."""
        with self._writing() as session:
            result = session.execute(
                update(Delivery)
                .where(col(Delivery.id) == delivery_id, _retryable(now, stale_before))
                .values(created_at=now, retry_at=None, attempts=Delivery.attempts + 1)
            )
            session.commit()
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def never_delivered(self, since: datetime, until: datetime) -> list[Item]:
        """Open items filed in the window that no delivery was ever claimed for: the process
        that acked them stopped before posting."""
        with self._session() as session:
            query = select(Item).where(
                _OPEN_ITEM,
                col(Item.created_at) >= since,
                col(Item.created_at) < until,
                col(Item.id).not_in(select(Delivery.item_id)),
            )
            return list(session.exec(query.order_by(col(Item.id))))

    def deliveries(self, item_id: int) -> Sequence[Delivery]:
        with self._session() as session:
            query = select(Delivery).where(
                Delivery.item_id == item_id, col(Delivery.message_ts).is_not(None)
            )
            return list(session.exec(query.order_by(col(Delivery.id))))

    def vote_count(self, item_id: int) -> int:
        with self._session() as session:
            query = select(func.count()).select_from(ItemVote).where(ItemVote.item_id == item_id)
            return int(session.exec(query).one())

    # Events ------------------------------------------------------------------------------

    def prune_events(self, before: datetime) -> int:
        """Forget event ids older than Slack's retry window (minutes) to keep the table small."""
        with self._writing() as session:
            result = session.execute(
                delete(ProcessedEvent).where(col(ProcessedEvent.received_at) < before)
            )
            session.commit()
            return int(result.rowcount)  # type: ignore[attr-defined]

    def claim_event(self, event_id: str, now: datetime) -> bool:
        """True the first time an Events API id is seen, False for Slack's retries."""
        try:
            with self._fast_write() as connection:
                connection.execute(_CLAIM_EVENT, {"event_id": event_id, "received_at": now})
        except IntegrityError:
            return False
        return True

    # Milestones and deadlines ------------------------------------------------------------

    def add_milestone(self, milestone: Milestone) -> bool:
        """Store a new milestone; False when the team already has one of that name."""
        with self._writing() as session:
            session.add(milestone)
            try:
                session.commit()
            except IntegrityError:
                return False
        return True

    def milestone(self, team_channel_id: str, name_key: str) -> Milestone | None:
        with self._session() as session:
            query = select(Milestone).where(
                Milestone.team_channel_id == team_channel_id, Milestone.name_key == name_key
            )
            return session.exec(query).first()

    def tracked_milestones(self, team_channel_id: str) -> list[TrackedMilestone]:
        """The team's open milestones, soonest first, with their open linked blockers."""
        return self._tracked(Milestone.team_channel_id == team_channel_id)

    def _tracked(self, *where: Any) -> list[TrackedMilestone]:
        blockers = (
            select(col(Item.milestone_id), func.count().label("blockers"))
            .where(
                Item.kind == ItemKind.BLOCKER,
                col(Item.status).in_(OPEN_STATUSES[ItemKind.BLOCKER]),
                col(Item.milestone_id).is_not(None),
            )
            .group_by(col(Item.milestone_id))
            .subquery()
        )
        query = (
            select(Milestone, func.coalesce(blockers.c.blockers, 0))
            .outerjoin(blockers, blockers.c.milestone_id == Milestone.id)
            .where(Milestone.status == WorkStatus.OPEN, *where)
            .order_by(col(Milestone.due_date), col(Milestone.id))
        )
        with self._session() as session:
            return [TrackedMilestone(m, int(n)) for m, n in session.execute(query)]

    def reschedule_milestone(self, milestone_id: int, due: date, now: datetime) -> bool:
        """Move an open milestone; its nudges are planned afresh from the new date."""
        with self._writing() as session:
            result = session.execute(
                update(Milestone)
                .where(col(Milestone.id) == milestone_id, col(Milestone.status) == WorkStatus.OPEN)
                .values(due_date=due, scheduled_at=now)
            )
            session.commit()
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def close_milestone(self, milestone_id: int, by: str, now: datetime) -> bool:
        return self._close(Milestone, milestone_id, by, now)

    def add_deadline(self, deadline: Deadline) -> Deadline:
        with self._writing() as session:
            session.add(deadline)
            session.commit()
            session.refresh(deadline)
        return deadline

    def open_deadlines(self, team_channel_id: str) -> list[Deadline]:
        with self._session() as session:
            query = select(Deadline).where(
                Deadline.team_channel_id == team_channel_id, Deadline.status == WorkStatus.OPEN
            )
            return list(session.exec(query.order_by(col(Deadline.due_date), col(Deadline.id))))

    def close_deadline(self, deadline_id: int, by: str, now: datetime) -> bool:
        return self._close(Deadline, deadline_id, by, now)

    def _close(
        self, table: type[Milestone] | type[Deadline], row_id: int, by: str, now: datetime
    ) -> bool:
        """Mark done once: a second close (another replica, a double click) changes nothing."""
        with self._writing() as session:
            result = session.execute(
                update(table)
                .where(col(table.id) == row_id, col(table.status) == WorkStatus.OPEN)
                .values(status=WorkStatus.DONE, done_by=by, done_at=now)
            )
            session.commit()
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def link_blocker(self, item_id: int, milestone_id: int) -> None:
        with self._writing() as session:
            session.execute(
                update(Item).where(col(Item.id) == item_id).values(milestone_id=milestone_id)
            )
            session.commit()

    # What the scheduler plans from -------------------------------------------------------

    def teams(self) -> list[Team]:
        """Every channel with roles, with its settings (defaults when it never changed any)."""
        first_role = (
            select(RoleAssignment.channel_id, func.min(RoleAssignment.assigned_at))
            .group_by(col(RoleAssignment.channel_id))
            .order_by(col(RoleAssignment.channel_id))
        )
        with self._session() as session:
            rows = list(session.execute(first_role))
            found = {s.channel_id: s for s in session.exec(select(TeamSettings))}
        return [
            Team(found.get(channel) or TeamSettings(channel_id=channel), since)
            for channel, since in rows
        ]

    def all_settings(self) -> dict[str, TeamSettings]:
        """Every channel's saved settings; channels missing here use the defaults."""
        with self._session() as session:
            return {s.channel_id: s for s in session.exec(select(TeamSettings))}

    def milestones_due_by(self, last_day: date) -> list[TrackedMilestone]:
        """Open milestones due on or before `last_day`, across every team."""
        return self._tracked(col(Milestone.due_date) <= last_day)

    def deadlines_due_by(self, last_day: date) -> list[Deadline]:
        with self._session() as session:
            query = select(Deadline).where(
                Deadline.status == WorkStatus.OPEN, col(Deadline.due_date) <= last_day
            )
            return list(session.exec(query.order_by(col(Deadline.id))))

    def unacknowledged_blockers(self, raised_before: datetime) -> list[Item]:
        """Open (never acknowledged) blockers raised before the given instant, across teams."""
        with self._session() as session:
            query = select(Item).where(
                Item.kind == ItemKind.BLOCKER,
                Item.status == ItemStatus.OPEN,
                col(Item.created_at) <= raised_before,
            )
            return list(session.exec(query.order_by(col(Item.id))))

    def holders_by_channel(self, role: Role) -> dict[str, list[str]]:
        """Every team's holders of one role, in one query."""
        query = (
            select(RoleAssignment.channel_id, RoleAssignment.user_id)
            .where(RoleAssignment.role == role)
            .order_by(col(RoleAssignment.assigned_at), col(RoleAssignment.id))
        )
        found: dict[str, list[str]] = {}
        with self._session() as session:
            for channel, user in session.execute(query):
                found.setdefault(channel, []).append(user)
        return found

    # Digest ------------------------------------------------------------------------------

    def product_digest(self, team_channel_id: str, since: datetime, limit: int) -> ProductDigest:
        feedback = (Item.team_channel_id == team_channel_id, Item.kind == ItemKind.FEEDBACK)
        still_open = col(Item.status) == ItemStatus.OPEN
        filed_this_week = col(Item.created_at) >= since
        by_status = (
            select(Item.status, func.count())
            .where(*feedback, filed_this_week)
            .group_by(col(Item.status))
        )
        with self._session() as session:
            filed_by_status = {status: int(n) for status, n in session.execute(by_status)}
        return ProductDigest(
            filed_by_status=filed_by_status,
            filed=self._queued(
                _with_votes(*feedback, filed_this_week)
                .order_by(_VOTES.desc(), col(Item.created_at).desc(), col(Item.id).desc())
                .limit(limit)
            ),
            waiting=self._counted(
                _with_votes(*feedback, still_open).order_by(col(Item.created_at), col(Item.id)),
                limit,
            ),
            most_voted=self._queued(
                _with_votes(*feedback, still_open)
                .where(_VOTES > 0)
                .order_by(_VOTES.desc(), col(Item.created_at), col(Item.id))
                .limit(limit)
            ),
        )

    def project_digest(
        self, team_channel_id: str, since: datetime, today: date, horizon: date, limit: int
    ) -> ProjectDigest:
        blockers = (Item.team_channel_id == team_channel_id, Item.kind == ItemKind.BLOCKER)
        milestones = self.tracked_milestones(team_channel_id)
        soon = [t for t in milestones if today <= t.milestone.due_date <= horizon]
        soon.sort(key=lambda t: (not t.at_risk, t.milestone.due_date))
        with self._session() as session:
            overdue_deadlines = list(
                session.exec(
                    select(Deadline)
                    .where(
                        Deadline.team_channel_id == team_channel_id,
                        Deadline.status == WorkStatus.OPEN,
                        col(Deadline.due_date) < today,
                    )
                    .order_by(col(Deadline.due_date), col(Deadline.id))
                    .limit(limit)
                )
            )
        return ProjectDigest(
            open_blockers=self._counted(
                _with_votes(
                    *blockers, col(Item.status).in_(OPEN_STATUSES[ItemKind.BLOCKER])
                ).order_by(col(Item.created_at), col(Item.id)),
                limit,
            ),
            resolved=self._counted(
                _with_votes(
                    *blockers,
                    col(Item.status) == ItemStatus.RESOLVED,
                    col(Item.updated_at) >= since,
                ).order_by(col(Item.updated_at).desc(), col(Item.id)),
                limit,
            ),
            milestones_soon=soon,
            overdue_milestones=[t for t in milestones if t.milestone.due_date < today],
            overdue_deadlines=overdue_deadlines,
        )

    def _counted(self, query: Any, limit: int) -> Counted:
        total = select(func.count()).select_from(query.order_by(None).subquery())
        with self._session() as session:
            count = int(session.execute(total).scalar_one())
        return Counted(self._queued(query.limit(limit)), count)

    # Scheduled sends ---------------------------------------------------------------------

    def settled(self, keys: Sequence[str]) -> set[str]:
        """The keys among these that were already posted: planning skips them cheaply."""
        found: set[str] = set()
        with self.engine.connect() as connection:
            for start in range(0, len(keys), 500):
                chunk = list(keys[start : start + 500])
                query = select(ScheduledSend.key).where(
                    col(ScheduledSend.key).in_(chunk), ScheduledSend.status == SendStatus.SENT
                )
                found.update(connection.execute(query).scalars())
        return found

    def claim_sends(
        self,
        keys: Sequence[str],
        destination: str,
        now: datetime,
        stale_before: datetime,
        tag: str,
    ) -> dict[str, str]:
        """Claim the right to post these sends under the metadata `tag` of this attempt; returns
        each key this caller won with the tag of its earlier attempt ("" for a new key).

        New keys are inserted (a conflicting insert wins nothing); of the keys that exist, a
        failed send whose retry time has come, or a claim whose runner died before
        `stale_before`, is taken over by a conditional update (skipped when every key was new,
        the usual case). Either way two runners never both win a key.
        """
        if not keys:
            return {}
        rows = [
            {
                "key": key,
                "destination": destination,
                "claimed_at": now,
                "attempts": 1,
                "status": SendStatus.CLAIMED,
                "post_tag": tag,
            }
            for key in sorted(keys)
        ]
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        fresh = (
            dialect.insert(ScheduledSend)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(col(ScheduledSend.key))
        )
        with self._fast_write() as connection:
            won = {key: "" for key in connection.execute(fresh).scalars()}
            existing = sorted(set(keys) - won.keys())
            if existing:
                retake = self._retake(existing, destination, now, stale_before, tag)
                won.update({key: earlier for key, earlier in connection.execute(retake)})
        return won

    @staticmethod
    def _retake(
        keys: list[str], destination: str, now: datetime, stale_before: datetime, tag: str
    ) -> Any:
        """Take over those of `keys` that failed and are due again, or whose runner died;
        returns each key taken with the tag of its earlier attempt."""
        return (
            update(ScheduledSend)
            .where(
                col(ScheduledSend.key).in_(keys),
                or_(
                    (col(ScheduledSend.status) == SendStatus.FAILED)
                    & (col(ScheduledSend.retry_at) <= now),
                    (col(ScheduledSend.status) == SendStatus.CLAIMED)
                    & (col(ScheduledSend.claimed_at) < stale_before),
                ),
            )
            .values(
                status=SendStatus.CLAIMED,
                claimed_at=now,
                destination=destination,
                attempts=ScheduledSend.attempts + 1,
                earlier_tag=ScheduledSend.post_tag,  # SET reads the row as it was
                post_tag=tag,
            )
            .returning(col(ScheduledSend.key), col(ScheduledSend.earlier_tag))
        )

    def record_sent(self, keys: Sequence[str], message_ts: str, now: datetime) -> None:
        with self._fast_write() as connection:
            connection.execute(
                update(ScheduledSend)
                .where(col(ScheduledSend.key).in_(list(keys)))
                .values(status=SendStatus.SENT, message_ts=message_ts, sent_at=now)
            )

    def record_failed(self, keys: Sequence[str], now: datetime) -> None:
        """Hand claims back after a failed post, to be retried after a backoff that doubles
        from one minute to an hour: a channel the bot was removed from is retried, not hammered.
        """
        claimed = (
            col(ScheduledSend.key).in_(list(keys)),
            col(ScheduledSend.status) == SendStatus.CLAIMED,
        )
        with self._fast_write() as connection:
            attempts = connection.execute(select(ScheduledSend.attempts).where(*claimed).distinct())
            for tries in list(attempts.scalars()):
                connection.execute(
                    update(ScheduledSend)
                    .where(*claimed, col(ScheduledSend.attempts) == tries)
                    .values(status=SendStatus.FAILED, retry_at=now + _retry_backoff(tries))
                )

    def send(self, key: str) -> ScheduledSend | None:
        with self._session() as session:
            return session.get(ScheduledSend, key)


def _retry_backoff(attempts: int) -> timedelta:
    """How long a failed post waits: one minute, doubling to an hour."""
    return timedelta(minutes=min(2 ** (attempts - 1), 60))


_POSTED_ITEMS = select(Delivery.item_id).where(col(Delivery.message_ts).is_not(None))
_OPEN_ITEM = or_(
    *(
        (col(Item.kind) == kind) & col(Item.status).in_(statuses)
        for kind, statuses in OPEN_STATUSES.items()
    )
)


def _retryable(now: datetime, stale_before: datetime) -> Any:
    """An unposted delivery claim that may be taken over: failed and due, or abandoned."""
    return col(Delivery.message_ts).is_(None) & or_(
        col(Delivery.retry_at) <= now,
        col(Delivery.retry_at).is_(None) & (col(Delivery.created_at) < stale_before),
    )


_VOTE_COUNTS = (
    select(ItemVote.item_id, func.count().label("votes")).group_by(col(ItemVote.item_id)).subquery()
)
_VOTES = func.coalesce(_VOTE_COUNTS.c.votes, 0)


def _with_votes(*where: Any) -> Any:
    """Items matching `where`, each with its +1 count."""
    return (
        select(Item, _VOTES)
        .outerjoin(_VOTE_COUNTS, _VOTE_COUNTS.c.item_id == Item.id)
        .where(*where)
    )
