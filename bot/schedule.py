"""Zones, local dates and wall-clock instants, and the weekly digest's slot.

Pure functions of time. Every instant is built from a local date and a wall-clock time in an IANA
zone, so a DST change never moves a 09:00 off 09:00 local; and every send is named by its local
date, so no day is sent twice however often the scheduler runs. Working days and hours are
`bot.working_time`; which days something dated is nudged on is `bot.nudges`.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

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


@dataclass(frozen=True)
class DigestSlot:
    """One team's weekly digest: the scheduled instant and the ISO week it stands for."""

    at: datetime
    day: date

    @property
    def week(self) -> str:
        year, week, _ = self.day.isocalendar()
        return f"{year}-W{week:02d}"


def latest_digest(now: datetime, tz: ZoneInfo, weekday: int, wall: time) -> DigestSlot:
    """The most recent scheduled digest instant at or before `now`."""
    today = local_today(now, tz)
    day = today - timedelta(days=(today.weekday() - weekday) % 7)
    at = local_instant(day, wall, tz)
    if at > now:
        day -= timedelta(days=7)
        at = local_instant(day, wall, tz)
    return DigestSlot(at, day)
