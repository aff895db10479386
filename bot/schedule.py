"""When things are due: nudge instants, working hours, weekly digest instants.

Pure functions of time. Every instant is built from a local date and a wall-clock time in an IANA
zone, so a DST change never moves a nudge off 09:00 local; and every send is named by its local
date, so no day is nudged twice however often the scheduler runs.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

NUDGE_TIME = time(9, 0)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
ONE_DAY = timedelta(days=1)


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def is_zone(name: str) -> bool:
    """True for an IANA zone name this machine knows (checked before storing user input)."""
    return name in _zone_names()


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    """The zone for a stored name; an unknown name (say, a retired one) falls back to UTC."""
    return ZoneInfo(name) if is_zone(name) else ZoneInfo("UTC")


def local_instant(day: date, wall: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of a wall-clock time on a local date.

    A time that a spring-forward skips is read with the offset before the change (02:30 becomes
    03:30); a time a fall-back repeats is its first occurrence. Either way: one instant per date.
    """
    return datetime.combine(day, wall, tzinfo=tz).astimezone(UTC)


def local_today(now: datetime, tz: ZoneInfo) -> date:
    return now.astimezone(tz).date()


class Stage(StrEnum):
    """Where a dated thing stands on the day of a nudge."""

    DUE_TOMORROW = "due-tomorrow"
    DUE_TODAY = "due-today"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class Nudge:
    stage: Stage
    day: date  # the local date the nudge belongs to; part of its send key
    days_overdue: int


def current_nudge(due: date, tz: ZoneInfo, now: datetime, since: datetime) -> Nudge | None:
    """The newest nudge due by `now` for something due on `due`, or None.

    Nudges run at 09:00 local the day before, on the day and every day after. Only the newest
    one counts, so after downtime a stale "due tomorrow" is skipped rather than sent beside an
    "overdue". A nudge planned before `since` (when the date was set) is not sent at all.
    """
    today = local_today(now, tz)
    day = today if local_instant(today, NUDGE_TIME, tz) <= now else today - ONE_DAY
    if day < due - ONE_DAY or local_instant(day, NUDGE_TIME, tz) < since:
        return None
    if day < due:
        return Nudge(Stage.DUE_TOMORROW, day, 0)
    if day == due:
        return Nudge(Stage.DUE_TODAY, day, 0)
    return Nudge(Stage.OVERDUE, day, (day - due).days)


def add_working_hours(start: datetime, hours: int, tz: ZoneInfo) -> datetime:
    """The instant `hours` working hours after `start`: hours on Monday to Friday, local time.

    A blocker raised on Friday afternoon is not escalated over the weekend.
    """
    remaining = timedelta(hours=hours)
    cursor = start.astimezone(UTC)
    while True:
        day = local_today(cursor, tz)
        midnight = local_instant(day + ONE_DAY, time(0), tz)
        if day.weekday() < 5:
            if remaining <= midnight - cursor:
                return cursor + remaining
            remaining -= midnight - cursor
        cursor = midnight


@dataclass(frozen=True)
class DigestSlot:
    """One team's weekly digest: the scheduled instant and the ISO week it stands for."""

    at: datetime
    day: date

    @property
    def week(self) -> str:
        year, week, _ = self.day.isocalendar()
        return f"{year}-W{week:02d}"

    @property
    def week_of(self) -> date:
        return self.day - timedelta(days=self.day.weekday())


def latest_digest(now: datetime, tz: ZoneInfo, weekday: int, wall: time) -> DigestSlot:
    """The most recent scheduled digest instant at or before `now`."""
    today = local_today(now, tz)
    day = today - timedelta(days=(today.weekday() - weekday) % 7)
    at = local_instant(day, wall, tz)
    if at > now:
        day -= timedelta(days=7)
        at = local_instant(day, wall, tz)
    return DigestSlot(at, day)
