"""Milestones and deadlines, and which blockers stand in a milestone's way."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import case, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from storage.db import Database
from storage.items import QueuedItem
from storage.models import (
    OPEN_STATUSES,
    Deadline,
    Item,
    ItemKind,
    ItemStatus,
    Milestone,
    WorkStatus,
)


@dataclass(frozen=True)
class TrackedMilestone:
    """A milestone with its open linked blockers: any makes it at risk."""

    milestone: Milestone
    open_blockers: int

    @property
    def at_risk(self) -> bool:
        return self.open_blockers > 0


class PlanningStore:
    def __init__(self, db: Database, workspace_id: str) -> None:
        self.db = db
        self.workspace_id = workspace_id

    # Milestones --------------------------------------------------------------------------

    def add_milestone(self, milestone: Milestone) -> bool:
        """Store a new milestone; False when the team already has one of that name."""
        milestone.workspace_id = self.workspace_id
        with self.db.writing() as session:
            session.add(milestone)
            try:
                session.commit()
            except IntegrityError:
                return False
        return True

    def milestone(self, team_channel_id: str, name_key: str) -> Milestone | None:
        query = select(Milestone).where(
            Milestone.workspace_id == self.workspace_id,
            Milestone.team_channel_id == team_channel_id,
            Milestone.name_key == name_key,
        )
        with self.db.session() as session:
            return session.exec(query).first()

    def tracked(self, team_channel_id: str) -> list[TrackedMilestone]:
        """The team's open milestones, soonest first, with their open linked blockers."""
        return self._tracked(Milestone.team_channel_id == team_channel_id)

    def milestones_due_by(self, last_day: date) -> list[TrackedMilestone]:
        """Open milestones due on or before `last_day`, across every team."""
        return self._tracked(col(Milestone.due_date) <= last_day)

    def due_milestones(
        self, teams: Sequence[str], last_day: date, limit: int
    ) -> tuple[list[TrackedMilestone], int]:
        """The teams' open milestones due on or before `last_day` (overdue ones too): up to
        `limit` of them, at risk first and then soonest, and how many there are in all."""
        if not teams:
            return [], 0
        where = (
            col(Milestone.team_channel_id).in_(list(teams)),
            col(Milestone.due_date) <= last_day,
        )
        shown = self._tracked(*where, at_risk_first=True, limit=limit)
        return shown, self._open_count(Milestone, *where)

    def why(self, milestone_id: int, limit: int) -> tuple[list[QueuedItem], int]:
        """The feedback planned into a milestone (why it exists): up to `limit` items, most
        +1'd first, and how many there are in all."""
        where = (
            Item.workspace_id == self.workspace_id,
            Item.milestone_id == milestone_id,
            Item.kind == ItemKind.FEEDBACK,
            Item.status == ItemStatus.PLANNED,
        )
        shown = (
            select(Item)
            .where(*where)
            .order_by(col(Item.vote_count).desc(), col(Item.created_at), col(Item.id))
            .limit(limit)
        )
        with self.db.session() as session:
            items = [QueuedItem(item, item.vote_count) for item in session.exec(shown)]
            total = session.exec(select(func.count()).select_from(Item).where(*where)).one()
        return items, int(total)

    def reschedule(self, milestone_id: int, due: date, now: datetime) -> bool:
        """Move an open milestone; its nudges are planned afresh from the new date."""
        with self.db.writing() as session:
            result = session.execute(
                update(Milestone)
                .where(
                    col(Milestone.workspace_id) == self.workspace_id,
                    col(Milestone.id) == milestone_id,
                    col(Milestone.status) == WorkStatus.OPEN,
                )
                .values(due_date=due, scheduled_at=now)
            )
            session.commit()
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def _tracked(
        self, *where: Any, at_risk_first: bool = False, limit: int | None = None
    ) -> list[TrackedMilestone]:
        blockers = (
            select(col(Item.milestone_id), func.count().label("blockers"))
            .where(
                Item.workspace_id == self.workspace_id,
                Item.kind == ItemKind.BLOCKER,
                col(Item.status).in_(OPEN_STATUSES[ItemKind.BLOCKER]),
                col(Item.milestone_id).is_not(None),
            )
            .group_by(col(Item.milestone_id))
            .subquery()
        )
        open_blockers = func.coalesce(blockers.c.blockers, 0)
        order: list[Any] = [col(Milestone.due_date), col(Milestone.id)]
        if at_risk_first:
            order.insert(0, case((open_blockers > 0, 0), else_=1))
        query = (
            select(Milestone, open_blockers)
            .outerjoin(blockers, blockers.c.milestone_id == Milestone.id)
            .where(
                Milestone.workspace_id == self.workspace_id,
                Milestone.status == WorkStatus.OPEN,
                *where,
            )
            .order_by(*order)
            .limit(limit)
        )
        with self.db.session() as session:
            return [TrackedMilestone(m, int(n)) for m, n in session.execute(query)]

    # Deadlines ---------------------------------------------------------------------------

    def add_deadline(self, deadline: Deadline) -> Deadline:
        deadline.workspace_id = self.workspace_id
        with self.db.writing() as session:
            session.add(deadline)
            session.commit()
            session.refresh(deadline)
        return deadline

    def open_deadlines(self, team_channel_id: str) -> list[Deadline]:
        query = select(Deadline).where(
            Deadline.workspace_id == self.workspace_id,
            Deadline.team_channel_id == team_channel_id,
            Deadline.status == WorkStatus.OPEN,
        )
        with self.db.session() as session:
            return list(session.exec(query.order_by(col(Deadline.due_date), col(Deadline.id))))

    def overdue_in(
        self, teams: Sequence[str], today: date, limit: int
    ) -> tuple[list[Deadline], int]:
        """The teams' open deadlines due before `today`: up to `limit`, most overdue first,
        and how many there are in all."""
        if not teams:
            return [], 0
        where = (
            col(Deadline.team_channel_id).in_(list(teams)),
            col(Deadline.due_date) < today,
        )
        return self._open_deadlines(*where, limit=limit), self._open_count(Deadline, *where)

    def deadlines_of(self, assignee_id: str, limit: int) -> tuple[list[Deadline], int]:
        """One person's open deadlines in every team: up to `limit`, soonest first, and how
        many there are in all."""
        where = (col(Deadline.assignee_id) == assignee_id,)
        return self._open_deadlines(*where, limit=limit), self._open_count(Deadline, *where)

    def _open_deadlines(self, *where: Any, limit: int) -> list[Deadline]:
        query = (
            select(Deadline)
            .where(Deadline.workspace_id == self.workspace_id, Deadline.status == WorkStatus.OPEN)
            .where(*where)
            .order_by(col(Deadline.due_date), col(Deadline.id))
            .limit(limit)
        )
        with self.db.session() as session:
            return list(session.exec(query))

    def _open_count(self, table: type[Milestone] | type[Deadline], *where: Any) -> int:
        query = (
            select(func.count())
            .select_from(table)
            .where(
                col(table.workspace_id) == self.workspace_id,
                col(table.status) == WorkStatus.OPEN,
                *where,
            )
        )
        with self.db.session() as session:
            return int(session.exec(query).one())

    def deadlines_due_by(self, last_day: date) -> list[Deadline]:
        query = select(Deadline).where(
            Deadline.workspace_id == self.workspace_id,
            Deadline.status == WorkStatus.OPEN,
            col(Deadline.due_date) <= last_day,
        )
        with self.db.session() as session:
            return list(session.exec(query.order_by(col(Deadline.id))))

    def overdue_deadlines(self, team_channel_id: str, today: date, limit: int) -> list[Deadline]:
        query = (
            select(Deadline)
            .where(
                Deadline.workspace_id == self.workspace_id,
                Deadline.team_channel_id == team_channel_id,
                Deadline.status == WorkStatus.OPEN,
                col(Deadline.due_date) < today,
            )
            .order_by(col(Deadline.due_date), col(Deadline.id))
            .limit(limit)
        )
        with self.db.session() as session:
            return list(session.exec(query))

    # Both --------------------------------------------------------------------------------

    def close(
        self, table: type[Milestone] | type[Deadline], row_id: int, by: str, now: datetime
    ) -> bool:
        """Mark done once: a second close (another replica, a double click) changes nothing."""
        with self.db.writing() as session:
            result = session.execute(
                update(table)
                .where(
                    col(table.workspace_id) == self.workspace_id,
                    col(table.id) == row_id,
                    col(table.status) == WorkStatus.OPEN,
                )
                .values(status=WorkStatus.DONE, done_by=by, done_at=now)
            )
            session.commit()
            return bool(result.rowcount)  # type: ignore[attr-defined]
