"""The queries behind a team's weekly digest: a few rows of each list, and how many in all.

"Filed" and "resolved" read one period (`since` to `until`, the caller's local days); "open"
lists read the queues as they stand. Each item is listed once per reply: the feedback lists are
read in the order the reply shows them, each skipping the rows already listed above it.
"""

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import case, func
from sqlmodel import col, select

from storage.db import Database
from storage.handoffs import HandoffStore
from storage.items import VOTES, ItemStore, QueuedItem, with_votes
from storage.models import (
    OPEN_STATUSES,
    Deadline,
    Item,
    ItemKind,
    ItemStatus,
    Milestone,
    WorkStatus,
)
from storage.planning import PlanningStore, TrackedMilestone
from storage.queues import QueueStore, Risks
from storage.roadmap import Quarter, ThemeProgress, ThemeStore


@dataclass(frozen=True)
class Counted:
    """The first few rows of a list and how many there are in all."""

    shown: list[QueuedItem]
    total: int


@dataclass(frozen=True)
class Creep:
    """An open milestone and how many items were accepted into it after its scope froze."""

    milestone: Milestone
    accepted: int


@dataclass(frozen=True)
class FeedbackCounts:
    """The product reply's heading counts: read again when a row is triaged in the thread."""

    filed_by_status: dict[ItemStatus, int]  # feedback filed in the period, by status now
    open: int  # open feedback (waiting for triage)
    voted: int  # open feedback with at least one +1

    @property
    def filed(self) -> int:
        return sum(self.filed_by_status.values())


@dataclass(frozen=True)
class ProductDigest:
    counts: FeedbackCounts
    most_voted: list[QueuedItem]  # open, most +1'd first: of `counts.voted`
    waiting: list[QueuedItem]  # open, oldest first, not among `most_voted`: of `counts.open`
    filed: Counted  # filed in the period and listed in neither list above
    quarter: Quarter | None = None  # the roadmap quarter the themes are of
    themes: list[ThemeProgress] = field(default_factory=list)
    market_risks: Risks = field(default_factory=Risks)

    @property
    def quiet(self) -> bool:
        """Nothing filed in the period, nothing open, no themes, no market risks."""
        return (
            self.counts.filed == 0
            and self.counts.open == 0
            and not self.themes
            and self.market_risks.total == 0
        )


@dataclass(frozen=True)
class ProjectDigest:
    open_blockers: Counted
    resolved: Counted  # blockers resolved in the period
    milestones_soon: list[TrackedMilestone]
    overdue_milestones: list[TrackedMilestone]
    overdue_deadlines: list[Deadline]  # the first few, oldest first
    overdue_deadline_total: int
    operational_risks: Risks = field(default_factory=Risks)
    scope_creep: list[Creep] = field(default_factory=list)

    @property
    def quiet(self) -> bool:
        """No open or resolved blockers, no milestone soon or overdue, no overdue deadline,
        no operational risk, no scope creep."""
        return (
            self.open_blockers.total == 0
            and self.resolved.total == 0
            and not self.milestones_soon
            and not self.overdue_milestones
            and self.overdue_deadline_total == 0
            and self.operational_risks.total == 0
            and not self.scope_creep
        )


class DigestStore:
    def __init__(self, db: Database, workspace_id: str) -> None:
        self.db = db
        self.workspace_id = workspace_id
        self.items = ItemStore(db, workspace_id)
        self.planning = PlanningStore(db, workspace_id)
        self.queues = QueueStore(db, workspace_id)
        self.themes = ThemeStore(db, workspace_id)
        self.handoffs = HandoffStore(db, workspace_id)

    def product(
        self,
        team_channel_id: str,
        since: datetime,
        until: datetime,
        limit: int,
        quarter: Quarter | None = None,
    ) -> ProductDigest:
        """`quarter`: the roadmap quarter to show (the current one in the team's time zone,
        which the caller knows); none: no roadmap."""
        feedback = self._feedback(team_channel_id)
        still_open = col(Item.status) == ItemStatus.OPEN
        most_voted = self.items.queued(
            with_votes(*feedback, still_open, VOTES > 0)
            .order_by(VOTES.desc(), col(Item.created_at), col(Item.id))
            .limit(limit)
        )
        above = _ids(most_voted)
        waiting = self.items.queued(
            with_votes(*feedback, still_open, col(Item.id).not_in(sorted(above)))
            .order_by(col(Item.created_at), col(Item.id))
            .limit(limit)
        )
        listed = above | _ids(waiting)
        filed = with_votes(
            *feedback,
            *_between(col(Item.created_at), since, until),
            col(Item.id).not_in(sorted(listed)),
        ).order_by(VOTES.desc(), col(Item.created_at).desc(), col(Item.id).desc())
        return ProductDigest(
            counts=self.feedback_counts(team_channel_id, since, until),
            most_voted=most_voted,
            waiting=waiting,
            filed=self._counted(filed, limit),
            quarter=quarter,
            themes=self.themes.progress(team_channel_id, quarter) if quarter else [],
            market_risks=self.queues.open_risks([team_channel_id], ItemKind.MARKET_RISK, limit),
        )

    def feedback_counts(
        self, team_channel_id: str, since: datetime, until: datetime
    ) -> FeedbackCounts:
        """The product reply's heading counts, in one read."""
        feedback = self._feedback(team_channel_id)
        is_open = col(Item.status) == ItemStatus.OPEN
        by_status = (
            select(Item.status, func.count())
            .where(*feedback, *_between(col(Item.created_at), since, until))
            .group_by(col(Item.status))
        )
        voted = case((VOTES > 0, 1), else_=0)
        waiting = select(func.count(), func.coalesce(func.sum(voted), 0)).where(*feedback, is_open)
        with self.db.session() as session:
            filed_by_status = {status: int(n) for status, n in session.execute(by_status)}
            open_total, voted = session.execute(waiting).one()
        return FeedbackCounts(filed_by_status, int(open_total), int(voted))

    def open_blockers(self, team_channel_id: str) -> int:
        """How many of the team's blockers are open: the project reply's heading count."""
        query = select(func.count()).where(*self._open_blockers(team_channel_id))
        with self.db.session() as session:
            return int(session.execute(query).scalar_one())

    def project(
        self,
        team_channel_id: str,
        since: datetime,
        until: datetime,
        today: date,
        horizon: date,
        limit: int,
    ) -> ProjectDigest:
        blockers = self._blockers(team_channel_id)
        milestones = self.planning.tracked(team_channel_id)
        soon = [t for t in milestones if today <= t.milestone.due_date <= horizon]
        soon.sort(key=lambda t: (not t.at_risk, t.milestone.due_date))
        return ProjectDigest(
            open_blockers=self._counted(
                with_votes(*self._open_blockers(team_channel_id)).order_by(
                    col(Item.created_at), col(Item.id)
                ),
                limit,
            ),
            resolved=self._counted(
                with_votes(
                    *blockers,
                    col(Item.status) == ItemStatus.RESOLVED,
                    *_between(col(Item.updated_at), since, until),
                ).order_by(col(Item.updated_at).desc(), col(Item.id)),
                limit,
            ),
            milestones_soon=soon,
            overdue_milestones=[t for t in milestones if t.milestone.due_date < today],
            overdue_deadlines=self.planning.overdue_deadlines(team_channel_id, today, limit),
            overdue_deadline_total=self._overdue_deadlines(team_channel_id, today),
            operational_risks=self.queues.open_risks(
                [team_channel_id], ItemKind.OPERATIONAL_RISK, limit
            ),
            scope_creep=self._creep(team_channel_id, milestones),
        )

    def _feedback(self, team_channel_id: str) -> tuple[Any, ...]:
        return (
            Item.workspace_id == self.workspace_id,
            Item.team_channel_id == team_channel_id,
            Item.kind == ItemKind.FEEDBACK,
        )

    def _blockers(self, team_channel_id: str) -> tuple[Any, ...]:
        return (
            Item.workspace_id == self.workspace_id,
            Item.team_channel_id == team_channel_id,
            Item.kind == ItemKind.BLOCKER,
        )

    def _open_blockers(self, team_channel_id: str) -> tuple[Any, ...]:
        open_statuses = col(Item.status).in_(OPEN_STATUSES[ItemKind.BLOCKER])
        return (*self._blockers(team_channel_id), open_statuses)

    def _overdue_deadlines(self, team_channel_id: str, today: date) -> int:
        query = select(func.count()).where(
            Deadline.workspace_id == self.workspace_id,
            Deadline.team_channel_id == team_channel_id,
            Deadline.status == WorkStatus.OPEN,
            col(Deadline.due_date) < today,
        )
        with self.db.session() as session:
            return int(session.execute(query).scalar_one())

    def _creep(self, team_channel_id: str, milestones: list[TrackedMilestone]) -> list[Creep]:
        """The team's open milestones (soonest first) that took items in after their freeze."""
        accepted = self.handoffs.accepted_creep(team_channel_id)
        return [
            Creep(t.milestone, accepted[t.milestone.id])
            for t in milestones
            if t.milestone.id in accepted
        ]

    def _counted(self, query: Any, limit: int) -> Counted:
        total = select(func.count()).select_from(query.order_by(None).subquery())
        with self.db.session() as session:
            count = int(session.execute(total, {"workspace_id": self.workspace_id}).scalar_one())
        return Counted(self.items.queued(query.limit(limit)), count)


def _between(column: Any, since: datetime, until: datetime) -> tuple[Any, Any]:
    """From `since` (included) to `until` (excluded): one period, no overlap with the next."""
    return column >= since, column < until


def _ids(entries: Collection[QueuedItem]) -> set[int]:
    return {e.item.id for e in entries if e.item.id is not None}
