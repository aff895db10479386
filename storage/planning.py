"""Milestones and deadlines, and which blockers stand in a milestone's way."""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from storage.db import Database
from storage.models import OPEN_STATUSES, Deadline, Item, ItemKind, Milestone, WorkStatus


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

    def _tracked(self, *where: Any) -> list[TrackedMilestone]:
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
        query = (
            select(Milestone, func.coalesce(blockers.c.blockers, 0))
            .outerjoin(blockers, blockers.c.milestone_id == Milestone.id)
            .where(
                Milestone.workspace_id == self.workspace_id,
                Milestone.status == WorkStatus.OPEN,
                *where,
            )
            .order_by(col(Milestone.due_date), col(Milestone.id))
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
