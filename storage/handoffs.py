"""Handoffs: feedback the product manager planned that waits for the project manager (a new
milestone proposed for it, or scope creep into a frozen milestone), and what they decided."""

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from storage.db import Database
from storage.models import (
    Handoff,
    HandoffKind,
    HandoffStatus,
    Item,
    ItemStatus,
    Milestone,
    OutboxSend,
    SendKind,
    SendStatus,
)
from storage.outbox import Send

# The proposal cards of one handoff, one per recipient: `handoff:<id>:<recipient>`.
CARD_KEY = "handoff:{id}:{recipient}"

Cards = Callable[[Handoff], Sequence[tuple[Send, str]]]


class HandoffStore:
    def __init__(self, db: Database, workspace_id: str) -> None:
        self.db = db
        self.workspace_id = workspace_id
        self._mine = col(Handoff.workspace_id) == workspace_id

    def request(
        self, handoff: Handoff, waiting: Sequence[ItemStatus], cards: Cards, now: datetime
    ) -> Handoff | None:
        """Store a pending handoff and queue its cards (`cards`: each send with its
        destination, once the handoff has its id) in one transaction, so a handoff never waits
        without a card on its way. None, storing nothing, when the item already has a pending
        one or is no longer in a `waiting` status: its row is locked first (PostgreSQL), so two
        submissions at once store one."""
        handoff.workspace_id = self.workspace_id
        with self.db.writing() as session:
            item = session.exec(
                select(Item)
                .where(col(Item.workspace_id) == self.workspace_id, Item.id == handoff.item_id)
                .with_for_update()
            ).first()
            if item is None or item.status not in waiting:
                return None
            if session.exec(self._pending(handoff.item_id)).first() is not None:
                return None
            session.add(handoff)
            session.flush()
            for send, destination in cards(handoff):
                session.add(
                    OutboxSend(
                        workspace_id=self.workspace_id,
                        key=send.key,
                        kind=send.kind,
                        item_id=send.item_id,
                        destination=destination,
                        status=SendStatus.QUEUED,
                        attempts=0,
                        created_at=now,
                        claimed_at=now,
                        retry_at=now,
                        message=send.message,
                    )
                )
            session.commit()
        return handoff

    def get(self, handoff_id: int) -> Handoff | None:
        """The handoff, if it is this workspace's: an id from a button is never trusted alone."""
        query = select(Handoff).where(self._mine, Handoff.id == handoff_id)
        with self.db.session() as session:
            return session.exec(query).first()

    def pending(self, item_id: int) -> Handoff | None:
        """The item's handoff still waiting for the project manager, if any."""
        with self.db.session() as session:
            return session.exec(self._pending(item_id)).first()

    def pending_in(self, team_channel_id: str) -> list[Handoff]:
        """The team's handoffs still waiting for the project manager, oldest first."""
        query = select(Handoff).where(
            self._mine,
            Handoff.team_channel_id == team_channel_id,
            Handoff.status == HandoffStatus.PENDING,
        )
        with self.db.session() as session:
            return list(session.exec(query.order_by(col(Handoff.requested_at), col(Handoff.id))))

    def decide(
        self, handoff_id: int, status: HandoffStatus, by: str, at: datetime, **outcome: Any
    ) -> bool:
        """Settle a pending handoff (`outcome`: the milestone, a reason, where it was deferred
        to); False when it was decided already (a second click, a second project manager)."""
        with self.db.writing() as session:
            result = session.execute(
                update(Handoff)
                .where(
                    self._mine,
                    col(Handoff.id) == handoff_id,
                    col(Handoff.status) == HandoffStatus.PENDING,
                )
                .values(status=status, decided_by=by, decided_at=at, **outcome)
            )
            session.commit()
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def withdraw(self, item_id: int, by: str, at: datetime, reason: str) -> Handoff | None:
        """Settle the item's pending handoff as withdrawn (`reason`: what became of the item,
        "declined"), as `decide` does: nothing is left to plan, so it must not wait for the
        project manager. The withdrawn handoff; None when none was pending (or it was decided
        meanwhile)."""
        pending = self.pending(item_id)
        if pending is None or pending.id is None:
            return None
        if not self.decide(pending.id, HandoffStatus.WITHDRAWN, by, at, reason=reason):
            return None
        return self.get(pending.id)

    def accepted_creep(self, team_channel_id: str) -> dict[int, int]:
        """How many items each of the team's milestones took in after its freeze."""
        query = (
            select(Handoff.milestone_id, func.count())
            .where(
                self._mine,
                Handoff.team_channel_id == team_channel_id,
                Handoff.kind == HandoffKind.SCOPE_CREEP,
                Handoff.status == HandoffStatus.ACCEPTED,
                col(Handoff.milestone_id).is_not(None),
            )
            .group_by(col(Handoff.milestone_id))
        )
        with self.db.session() as session:
            return {int(m): int(n) for m, n in session.execute(query) if m is not None}

    def milestone(self, milestone_id: int) -> Milestone | None:
        """The milestone a handoff or a planned item names, whatever its status now."""
        query = select(Milestone).where(
            Milestone.workspace_id == self.workspace_id, Milestone.id == milestone_id
        )
        with self.db.session() as session:
            return session.exec(query).first()

    def copies(self, handoff: Handoff) -> list[OutboxSend]:
        """Every proposal card of the handoff that reached Slack: the copies to update once it
        is decided, as our records have them."""
        query = select(OutboxSend).where(
            col(OutboxSend.workspace_id) == self.workspace_id,
            OutboxSend.item_id == handoff.item_id,
            OutboxSend.kind == SendKind.NOTICE,
            OutboxSend.status == SendStatus.SENT,
            col(OutboxSend.key).startswith(CARD_KEY.format(id=handoff.id, recipient="")),
        )
        with self.db.session() as session:
            return list(session.exec(query.order_by(col(OutboxSend.created_at))))

    def _pending(self, item_id: int) -> SelectOfScalar[Handoff]:
        return select(Handoff).where(
            self._mine, Handoff.item_id == item_id, Handoff.status == HandoffStatus.PENDING
        )
