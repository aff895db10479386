"""The queries behind a team's weekly digest: a few rows of each list, and how many in all."""

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from storage.db import Database
from storage.handoffs import HandoffStore
from storage.items import VOTES, ItemStore, QueuedItem, with_votes
from storage.models import OPEN_STATUSES, Deadline, Item, ItemKind, ItemStatus, Milestone
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
class ProductDigest:
    filed_by_status: dict[ItemStatus, int]
    filed: list[QueuedItem]
    waiting: Counted
    most_voted: list[QueuedItem]
    quarter: Quarter | None = None  # the roadmap quarter the themes are of
    themes: list[ThemeProgress] = field(default_factory=list)
    market_risks: Risks = field(default_factory=Risks)


@dataclass(frozen=True)
class ProjectDigest:
    open_blockers: Counted
    resolved: Counted
    milestones_soon: list[TrackedMilestone]
    overdue_milestones: list[TrackedMilestone]
    overdue_deadlines: list[Deadline]
    operational_risks: Risks = field(default_factory=Risks)
    scope_creep: list[Creep] = field(default_factory=list)


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
        self, team_channel_id: str, since: datetime, limit: int, quarter: Quarter | None = None
    ) -> ProductDigest:
        """`quarter`: the roadmap quarter to show (the current one in the team's time zone,
        which the caller knows); none: no roadmap."""
        feedback = (
            Item.workspace_id == self.workspace_id,
            Item.team_channel_id == team_channel_id,
            Item.kind == ItemKind.FEEDBACK,
        )
        still_open = col(Item.status) == ItemStatus.OPEN
        filed_this_week = col(Item.created_at) >= since
        by_status = (
            select(Item.status, func.count())
            .where(*feedback, filed_this_week)
            .group_by(col(Item.status))
        )
        with self.db.session() as session:
            filed_by_status = {status: int(n) for status, n in session.execute(by_status)}
        return ProductDigest(
            filed_by_status=filed_by_status,
            filed=self.items.queued(
                with_votes(*feedback, filed_this_week)
                .order_by(VOTES.desc(), col(Item.created_at).desc(), col(Item.id).desc())
                .limit(limit)
            ),
            waiting=self._counted(
                with_votes(*feedback, still_open).order_by(col(Item.created_at), col(Item.id)),
                limit,
            ),
            most_voted=self.items.queued(
                with_votes(*feedback, still_open)
                .where(VOTES > 0)
                .order_by(VOTES.desc(), col(Item.created_at), col(Item.id))
                .limit(limit)
            ),
            quarter=quarter,
            themes=self.themes.progress(team_channel_id, quarter) if quarter else [],
            market_risks=self.queues.open_risks([team_channel_id], ItemKind.MARKET_RISK, limit),
        )

    def project(
        self, team_channel_id: str, since: datetime, today: date, horizon: date, limit: int
    ) -> ProjectDigest:
        blockers = (
            Item.workspace_id == self.workspace_id,
            Item.team_channel_id == team_channel_id,
            Item.kind == ItemKind.BLOCKER,
        )
        milestones = self.planning.tracked(team_channel_id)
        soon = [t for t in milestones if today <= t.milestone.due_date <= horizon]
        soon.sort(key=lambda t: (not t.at_risk, t.milestone.due_date))
        return ProjectDigest(
            open_blockers=self._counted(
                with_votes(
                    *blockers, col(Item.status).in_(OPEN_STATUSES[ItemKind.BLOCKER])
                ).order_by(col(Item.created_at), col(Item.id)),
                limit,
            ),
            resolved=self._counted(
                with_votes(
                    *blockers,
                    col(Item.status) == ItemStatus.RESOLVED,
                    col(Item.updated_at) >= since,
                ).order_by(col(Item.updated_at).desc(), col(Item.id)),
                limit,
            ),
            milestones_soon=soon,
            overdue_milestones=[t for t in milestones if t.milestone.due_date < today],
            overdue_deadlines=self.planning.overdue_deadlines(team_channel_id, today, limit),
            operational_risks=self.queues.open_risks(
                [team_channel_id], ItemKind.OPERATIONAL_RISK, limit
            ),
            scope_creep=self._creep(team_channel_id, milestones),
        )

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
