"""Days off: a team's holidays and a person's time away."""

from collections.abc import Sequence
from datetime import date

from sqlalchemy import delete
from sqlmodel import col, select

from storage.db import Database
from storage.models import Away, Holiday

Period = tuple[date, date]  # first and last day, inclusive


class CalendarStore:
    def __init__(self, db: Database, workspace_id: str) -> None:
        self.db = db
        self.workspace_id = workspace_id

    # Holidays ----------------------------------------------------------------------------

    def add_holiday(self, channel_id: str, day: date, name: str, by: str) -> bool:
        """False when the team already has that day off."""
        holiday = Holiday(
            workspace_id=self.workspace_id, channel_id=channel_id, day=day, name=name, added_by=by
        )
        return self.db.add_new(holiday)

    def remove_holiday(self, channel_id: str, day: date) -> bool:
        with self.db.writing() as session:
            result = session.execute(
                delete(Holiday).where(
                    col(Holiday.workspace_id) == self.workspace_id,
                    col(Holiday.channel_id) == channel_id,
                    col(Holiday.day) == day,
                )
            )
            session.commit()
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def holidays(self, channel_id: str, since: date, limit: int) -> list[Holiday]:
        """The team's holidays from `since` on, soonest first."""
        query = (
            select(Holiday)
            .where(
                Holiday.workspace_id == self.workspace_id,
                Holiday.channel_id == channel_id,
                col(Holiday.day) >= since,
            )
            .order_by(col(Holiday.day))
            .limit(limit)
        )
        with self.db.session() as session:
            return list(session.exec(query))

    def holidays_by_team(self, since: date) -> dict[str, frozenset[date]]:
        """Every team's holidays from `since` on, in one query (for a run of the time loop)."""
        query = select(col(Holiday.channel_id), col(Holiday.day)).where(
            Holiday.workspace_id == self.workspace_id, col(Holiday.day) >= since
        )
        found: dict[str, set[date]] = {}
        with self.db.session() as session:
            for channel, day in session.execute(query):
                found.setdefault(channel, set()).add(day)
        return {channel: frozenset(days) for channel, days in found.items()}

    # Time away ---------------------------------------------------------------------------

    def set_away(self, user_id: str, first: date, last: date) -> None:
        away = Away(workspace_id=self.workspace_id, user_id=user_id, first_day=first, last_day=last)
        with self.db.writing() as session:
            session.add(away)
            session.commit()

    def clear_away(self, user_id: str, today: date) -> int:
        """Forget the person's current and future time away; how many periods went."""
        with self.db.writing() as session:
            result = session.execute(
                delete(Away).where(
                    col(Away.workspace_id) == self.workspace_id,
                    col(Away.user_id) == user_id,
                    col(Away.last_day) >= today,
                )
            )
            session.commit()
            return int(result.rowcount)  # type: ignore[attr-defined]

    def away_of(self, user_id: str, today: date) -> list[Period]:
        """The person's current and future time away, soonest first."""
        query = (
            select(col(Away.first_day), col(Away.last_day))
            .where(
                Away.workspace_id == self.workspace_id,
                Away.user_id == user_id,
                col(Away.last_day) >= today,
            )
            .order_by(col(Away.first_day))
        )
        with self.db.session() as session:
            return [(first, last) for first, last in session.execute(query)]

    def away_by_person(self, since: date) -> dict[str, Sequence[Period]]:
        """Everyone's time away that ends on or after `since`, in one query."""
        query = select(col(Away.user_id), col(Away.first_day), col(Away.last_day)).where(
            Away.workspace_id == self.workspace_id, col(Away.last_day) >= since
        )
        found: dict[str, list[Period]] = {}
        with self.db.session() as session:
            for user, first, last in session.execute(query):
                found.setdefault(user, []).append((first, last))
        return dict(found)
