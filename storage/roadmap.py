"""Roadmap themes (a quarter's goals, "2027-Q1"), the milestones that deliver each, a
quarter's progress, and what a milestone delivers (the feedback planned into it, and who asked
for it) and what stands in its way."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from sqlalchemy import delete, exists, func, or_, update
from sqlmodel import col, select

from storage.db import Database
from storage.models import (
    Item,
    ItemVote,
    Milestone,
    Theme,
    WorkStatus,
)
from storage.planning import HIGH_RISK, MOST_VOTED, OPEN_BLOCKER, planned_feedback


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int  # 1-4

    @classmethod
    def of(cls, day: date) -> "Quarter":
        return cls(day.year, (day.month - 1) // 3 + 1)

    @property
    def first_day(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def last_day(self) -> date:
        following = Quarter(self.year + self.number // 4, self.number % 4 + 1)
        return following.first_day - timedelta(days=1)

    def __str__(self) -> str:
        return f"{self.year}-Q{self.number}"

    @classmethod
    def of_theme(cls, theme: Theme) -> "Quarter":
        return cls(theme.year, theme.quarter)


class MilestoneState(StrEnum):
    """Where a milestone stands, as the roadmap and `/milestone show` tell it."""

    DONE = "done"
    SLIPPED = "slipped"  # open and overdue, or due after its theme's quarter ends
    AT_RISK = "at risk"  # open blockers or high risks
    ON_TRACK = "on track"

    @classmethod
    def of(
        cls, milestone: Milestone, at_risk: bool, today: date, quarter: Quarter | None
    ) -> "MilestoneState":
        """`today` in the team's time zone; `quarter` the one of the theme it delivers."""
        if milestone.status is WorkStatus.DONE:
            return cls.DONE
        late = quarter is not None and milestone.due_date > quarter.last_day
        if milestone.due_date < today or late:
            return cls.SLIPPED
        return cls.AT_RISK if at_risk else cls.ON_TRACK


@dataclass(frozen=True)
class ThemeProgress:
    """A theme and how many of its milestones are done."""

    theme: Theme
    done: int
    total: int


class ThemeStore:
    def __init__(self, db: Database, workspace_id: str) -> None:
        self.db = db
        self.workspace_id = workspace_id

    def add(self, theme: Theme) -> bool:
        """Store a new theme; False when the team already has one of that name."""
        theme.workspace_id = self.workspace_id
        return self.db.add_new(theme)

    def named(self, team_channel_id: str, name_key: str) -> Theme | None:
        query = select(Theme).where(
            Theme.workspace_id == self.workspace_id,
            Theme.team_channel_id == team_channel_id,
            Theme.name_key == name_key,
        )
        with self.db.session() as session:
            return session.exec(query).first()

    def get(self, theme_id: int) -> Theme | None:
        query = select(Theme).where(Theme.workspace_id == self.workspace_id, Theme.id == theme_id)
        with self.db.session() as session:
            return session.exec(query).first()

    def of_team(self, team_channel_id: str, since: Quarter | None = None) -> list[Theme]:
        """The team's themes, by quarter then name; from `since` on when given."""
        query = select(Theme).where(
            Theme.workspace_id == self.workspace_id, Theme.team_channel_id == team_channel_id
        )
        if since is not None:
            query = query.where(
                (col(Theme.year) > since.year)
                | ((col(Theme.year) == since.year) & (col(Theme.quarter) >= since.number))
            )
        order = (col(Theme.year), col(Theme.quarter), col(Theme.name_key))
        with self.db.session() as session:
            return list(session.exec(query.order_by(*order)))

    def on_roadmap(
        self, team_channel_id: str, current: Quarter, limit: int
    ) -> tuple[list[Theme], int]:
        """The team's themes from the `current` quarter on, and earlier ones that still have
        open milestones: up to `limit`, by quarter then name, and how many there are in all."""
        still_open = exists().where(
            col(Milestone.workspace_id) == self.workspace_id,
            col(Milestone.theme_id) == col(Theme.id),
            col(Milestone.status) == WorkStatus.OPEN,
        )
        where = (
            Theme.workspace_id == self.workspace_id,
            Theme.team_channel_id == team_channel_id,
            or_(
                col(Theme.year) > current.year,
                (col(Theme.year) == current.year) & (col(Theme.quarter) >= current.number),
                still_open,
            ),
        )
        order = (col(Theme.year), col(Theme.quarter), col(Theme.name_key))
        with self.db.session() as session:
            themes = list(session.exec(select(Theme).where(*where).order_by(*order).limit(limit)))
            total = session.exec(select(func.count()).select_from(Theme).where(*where)).one()
        return themes, int(total)

    def remove(self, theme_id: int) -> int | None:
        """Delete the theme, unlinking its milestones first; how many it had (None: gone)."""
        with self.db.writing() as session:
            unlinked = session.execute(
                update(Milestone)
                .where(
                    col(Milestone.workspace_id) == self.workspace_id,
                    col(Milestone.theme_id) == theme_id,
                )
                .values(theme_id=None)
            )
            removed = session.execute(
                delete(Theme).where(
                    col(Theme.workspace_id) == self.workspace_id, col(Theme.id) == theme_id
                )
            )
            session.commit()
        if not removed.rowcount:  # type: ignore[attr-defined]
            return None
        return int(unlinked.rowcount)  # type: ignore[attr-defined]

    def milestones(self, theme_ids: Sequence[int]) -> dict[int, list[Milestone]]:
        """Every milestone (open or done) linked to each theme, soonest first."""
        if not theme_ids:
            return {}
        query = (
            select(Milestone)
            .where(
                Milestone.workspace_id == self.workspace_id,
                col(Milestone.theme_id).in_(list(theme_ids)),
            )
            .order_by(col(Milestone.due_date), col(Milestone.id))
        )
        found: dict[int, list[Milestone]] = defaultdict(list)
        with self.db.session() as session:
            for milestone in session.exec(query):
                assert milestone.theme_id is not None
                found[milestone.theme_id].append(milestone)
        return dict(found)

    def link(self, milestone_id: int, theme_id: int | None) -> bool:
        """Make the milestone deliver the theme (None: no theme); False when it is gone."""
        with self.db.writing() as session:
            result = session.execute(
                update(Milestone)
                .where(
                    col(Milestone.workspace_id) == self.workspace_id,
                    col(Milestone.id) == milestone_id,
                )
                .values(theme_id=theme_id)
            )
            session.commit()
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def progress(self, team_channel_id: str, quarter: Quarter) -> list[ThemeProgress]:
        """The team's themes of one quarter, each with its milestones done and in all."""
        themes = [
            t
            for t in self.of_team(team_channel_id, quarter)
            if (t.year, t.quarter) == (quarter.year, quarter.number)
        ]
        linked = self.milestones([t.id for t in themes if t.id is not None])
        progress = []
        for theme in themes:
            assert theme.id is not None
            milestones = linked.get(theme.id, [])
            done = sum(1 for m in milestones if m.status is WorkStatus.DONE)
            progress.append(ThemeProgress(theme, done, len(milestones)))
        return progress


@dataclass(frozen=True)
class InTheWay:
    """A milestone's open blockers and open high risks (oldest first, up to a limit each), and
    how many of each there are in all."""

    blockers: list[Item]
    blocker_total: int
    risks: list[Item]
    risk_total: int


@dataclass(frozen=True)
class AskedFor:
    """Feedback planned into a milestone and everyone who +1'd it."""

    item: Item
    voters: list[str]


class DeliveryStore:
    """What one milestone delivers, who asked for it, and what stands in its way."""

    def __init__(self, db: Database, workspace_id: str) -> None:
        self.db = db
        self.workspace_id = workspace_id

    def in_the_way(self, milestone_id: int, limit: int) -> InTheWay:
        found: list[tuple[list[Item], int]] = []
        with self.db.session() as session:
            for kind in (OPEN_BLOCKER, HIGH_RISK):
                where = (
                    Item.workspace_id == self.workspace_id,
                    Item.milestone_id == milestone_id,
                    kind,
                )
                shown = select(Item).where(*where).order_by(col(Item.created_at), col(Item.id))
                total = select(func.count()).select_from(Item).where(*where)
                found.append(
                    (list(session.exec(shown.limit(limit))), int(session.exec(total).one()))
                )
        (blockers, blocker_total), (risks, risk_total) = found
        return InTheWay(blockers, blocker_total, risks, risk_total)

    def asked_for(self, milestone_id: int) -> list[AskedFor]:
        """The feedback planned into the milestone, most +1'd first, each with its voters in
        the order they +1'd."""
        planned = (*planned_feedback(self.workspace_id), Item.milestone_id == milestone_id)
        items = select(Item).where(*planned).order_by(*MOST_VOTED)
        votes = (
            select(ItemVote.item_id, ItemVote.user_id)
            .join(Item, (col(Item.id) == ItemVote.item_id))
            .where(ItemVote.workspace_id == self.workspace_id, *planned)
            .order_by(col(ItemVote.id))
        )
        with self.db.session() as session:
            found = [AskedFor(item, []) for item in session.exec(items)]
            by_id = {entry.item.id: entry for entry in found}
            for item_id, user_id in session.execute(votes):
                if item_id in by_id:
                    by_id[item_id].voters.append(user_id)
        return found
