"""Roadmap themes (a quarter's goals, "2027-Q1"), the milestones that deliver each, and a
quarter's progress."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from storage.db import Database
from storage.models import Milestone, Theme, WorkStatus


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
        with self.db.writing() as session:
            session.add(theme)
            try:
                session.commit()
            except IntegrityError:
                return False
            session.refresh(theme)
        return True

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
