"""Every query Rolecall runs. Callers get detached model objects, never sessions."""

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, delete, func, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.models import (
    Delivery,
    Item,
    ItemKind,
    ItemStatus,
    ItemVote,
    ProcessedEvent,
    Role,
    RoleAssignment,
    TeamSettings,
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
        return self._queued(query.where(col(Item.id).not_in(select(Delivery.item_id))))

    @staticmethod
    def _queue_query(team_channel_id: str, kind: ItemKind) -> Any:
        votes = (
            select(ItemVote.item_id, func.count().label("votes"))
            .group_by(col(ItemVote.item_id))
            .subquery()
        )
        return (
            select(Item, func.coalesce(votes.c.votes, 0))
            .outerjoin(votes, votes.c.item_id == Item.id)
            .where(
                Item.team_channel_id == team_channel_id,
                Item.kind == kind,
                col(Item.status).in_(OPEN_STATUSES[kind]),
            )
            .order_by(col(Item.created_at), col(Item.id))
        )

    def _queued(self, query: Any) -> list[QueuedItem]:
        with self._session() as session:
            return [QueuedItem(item, int(count)) for item, count in session.execute(query)]

    # Deliveries --------------------------------------------------------------------------

    def claim_delivery(self, item_id: int, recipient: str, now: datetime) -> int | None:
        """Reserve the right to post this item to `recipient`; None if someone already did."""
        claim = {"item_id": item_id, "recipient": recipient, "created_at": now}
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

    def release_delivery(self, delivery_id: int) -> None:
        """Give a claim back after the post failed, so a later run can deliver it."""
        with self._writing() as session:
            session.execute(delete(Delivery).where(col(Delivery.id) == delivery_id))
            session.commit()

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
