"""When a team (or one person) works: days, hours, holidays and time away, in one zone.

Pure functions of time. Everything Rolecall posts on a schedule asks `is_open` first, so
nothing lands at night, on a weekend, on a holiday or while someone is away; escalation
thresholds count only open hours (`add_working_hours`). Instants are built with
`local_instant`, so a DST change never moves a working day's start off its wall-clock time.
"""

from collections.abc import Container, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays as calendars

from bot.schedule import ONE_DAY, local_instant, local_today, zone
from storage.models import TeamSettings

# How far to look for the next working day: a year of holidays is not a working week.
SEARCH_DAYS = 400
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@lru_cache(maxsize=64)
def region_calendar(region: str) -> Container[date]:
    """The public holidays of "DE" or "DE-BY" (country, then optional subdivision), as the
    `holidays` library knows them. Raises NotImplementedError for an unknown one."""
    country, _, subdivision = region.partition("-")
    return calendars.country_holidays(country, subdiv=subdivision or None)


@dataclass(frozen=True)
class DaysOff:
    """Dates nobody should be pinged on: the team's holidays, its region's public holidays,
    and (for one person) the days they are away."""

    dates: frozenset[date] = frozenset()
    region: str | None = None
    away: tuple[tuple[date, date], ...] = ()  # inclusive ranges

    def __contains__(self, day: object) -> bool:
        if not isinstance(day, date):
            return False
        if day in self.dates or self.away_on(day):
            return True
        return self.region is not None and day in region_calendar(self.region)

    def away_on(self, day: date) -> bool:
        """Whether the day falls in the person's time away (not a holiday)."""
        return any(first <= day <= last for first, last in self.away)


@dataclass(frozen=True)
class WorkingTime:
    """Working days and hours in one zone, and the days off on top of them."""

    tz: ZoneInfo
    days: frozenset[int] = frozenset(range(5))  # date.weekday() numbers: Monday to Friday
    start: time = time(9, 0)
    end: time = time(17, 0)
    off: DaysOff = field(default_factory=DaysOff)
    # Day -> working or not, filled as asked: a run asks about the same few days thousands of
    # times, and a region calendar lookup is not free.
    _working: dict[date, bool] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    @classmethod
    def of_team(cls, settings: TeamSettings, holidays: Iterable[date] = ()) -> "WorkingTime":
        return cls(
            tz=zone(settings.timezone),
            days=parse_days(settings.work_days),
            start=minutes_to_time(settings.work_start),
            end=minutes_to_time(settings.work_end),
            off=DaysOff(frozenset(holidays), settings.holiday_region),
        )

    def for_person(self, tz_name: str, away: Iterable[tuple[date, date]] = ()) -> "WorkingTime":
        """The same working week in a person's own zone, with their time away as days off."""
        return replace(self, tz=zone(tz_name), off=replace(self.off, away=tuple(away)))

    def is_working_day(self, day: date) -> bool:
        found = self._working.get(day)
        if found is None:
            found = self._working[day] = day.weekday() in self.days and day not in self.off
        return found

    def opens(self, day: date) -> datetime:
        return local_instant(day, self.start, self.tz)

    def closes(self, day: date) -> datetime:
        return local_instant(day, self.end, self.tz)

    def today(self, at: datetime) -> date:
        return local_today(at, self.tz)

    def is_open(self, at: datetime) -> bool:
        """True inside working hours of a working day (local time)."""
        day = self.today(at)
        return self.is_working_day(day) and self.opens(day) <= at < self.closes(day)

    def working_day_from(self, day: date) -> date:
        """`day` if it is a working day, else the next one."""
        return self._search(day, ONE_DAY)

    def working_day_before(self, day: date) -> date:
        """The last working day before `day`."""
        return self._search(day - ONE_DAY, -ONE_DAY)

    def next_opening(self, at: datetime) -> datetime:
        """`at` if the team is at work then, else the start of its next working day."""
        if self.is_open(at):
            return at
        day = self.today(at)
        if not (self.is_working_day(day) and at < self.opens(day)):
            day = self.working_day_from(day + ONE_DAY)
        return self.opens(day)

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """The instant `hours` working hours after `start`: a blocker raised at 04:50 on an
        8-hour threshold escalates at 17:00, not at 12:50."""
        remaining = timedelta(hours=hours)
        cursor = self.next_opening(start)
        while True:
            day = self.today(cursor)
            left_today = self.closes(day) - cursor
            if remaining <= left_today:
                return cursor + remaining
            remaining -= left_today
            cursor = self.opens(self.working_day_from(day + ONE_DAY))

    def _search(self, day: date, step: timedelta) -> date:
        for _ in range(SEARCH_DAYS):
            if self.is_working_day(day):
                return day
            day += step
        return day  # no working day within a year: take the date rather than loop forever


def parse_days(text: str) -> frozenset[int]:
    """The stored "0,1,2,3,4"; an empty or broken value means Monday to Friday."""
    days = frozenset(int(part) for part in text.split(",") if part.strip().isdigit())
    return frozenset(d for d in days if d < 7) or frozenset(range(5))


def minutes_to_time(minutes: int) -> time:
    return time(min(minutes, 24 * 60 - 1) // 60, minutes % 60)


def days_label(days: frozenset[int]) -> str:
    """Monday to Friday as "mon-fri", Sunday to Thursday as "sun-thu", other weeks as
    "mon, wed, fri"."""
    if 2 < len(days) < 7:
        for first in days:
            run = {(first + offset) % 7 for offset in range(len(days))}
            if run == days and (first - 1) % 7 not in days:
                return f"{DAY_NAMES[first]}-{DAY_NAMES[(first + len(days) - 1) % 7]}"
    return ", ".join(DAY_NAMES[d] for d in sorted(days))
