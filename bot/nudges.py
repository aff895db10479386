"""Which days something dated is nudged on, in working time, and where it stands when read.

A due date is nudged on the working day before it, on the day (if that is a working day),
then on every working day of the week after it, then once a week: a slipped date is not
nagged about daily for months. A snooze holds every nudge until its day, which then gets one.
Only the newest nudge day counts, so after downtime one nudge is sent (late, written for the
day it is read) and a superseded "due tomorrow" is skipped. Nothing is due outside working
hours: the caller passes the recipient's working time (the team's, or a person's).
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from bot.schedule import ONE_DAY
from bot.working_time import WorkingTime

DAILY_DAYS = 7  # overdue: nudged every working day for this many days, then weekly
WEEK = timedelta(days=7)
# How far back the newest nudge day is looked for: beyond the longest gap between two of them
# (a week, stretched by holidays).
LOOKBACK = 21


class Stage(StrEnum):
    """Where a dated thing stands on the day a nudge is read."""

    DUE_SOON = "due-soon"  # due on the next working day (or a day off before it)
    DUE_TODAY = "due-today"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class Nudge:
    day: date  # the nudge day it stands for: part of its send key, so it is sent once
    today: date  # the day it is read on (the recipient's), which its text is written for
    due: date

    @property
    def stage(self) -> Stage:
        if self.today < self.due:
            return Stage.DUE_SOON
        return Stage.DUE_TODAY if self.today == self.due else Stage.OVERDUE

    @property
    def days_overdue(self) -> int:
        return max((self.today - self.due).days, 0)


def is_nudge_day(
    due: date,
    day: date,
    work: WorkingTime,
    daily_days: int = DAILY_DAYS,
    resume: date | None = None,
) -> bool:
    """True when `day` gets a nudge. `daily_days`: how long an overdue date is nudged daily
    (managers get 1: the first overdue day, then weekly); `resume`: a snooze's end."""
    if not work.is_working_day(day):
        return False
    if resume is not None and day == work.working_day_from(resume) and day >= due:
        return True
    if day == due or day == work.working_day_before(due):
        return True
    if day < due:
        return False
    gap = (day - due).days
    if gap <= daily_days:
        return True
    weeks = gap // 7
    # Weekly from the first whole week past the daily ones: a manager's once-then-weekly
    # (daily_days=1) hears again a week after, not two.
    return weeks * 7 > daily_days and day == work.working_day_from(due + weeks * WEEK)


def latest_nudge(
    due: date,
    work: WorkingTime,
    now: datetime,
    since: datetime,
    daily_days: int = DAILY_DAYS,
    snoozed_until: date | None = None,
) -> Nudge | None:
    """The newest nudge due at `now`, or None: outside working hours, before the first nudge
    day, while snoozed, or when the newest nudge day began before `since` (when the date was
    set: adding a date never triggers a stale nudge at once)."""
    if not work.is_open(now):
        return None
    today = work.today(now)
    if snoozed_until is not None and today < snoozed_until:
        return None
    first = work.working_day_before(due)
    for back in range(LOOKBACK):
        day = today - back * ONE_DAY
        if day < first:
            return None
        if is_nudge_day(due, day, work, daily_days, snoozed_until):
            return Nudge(day, today, due) if work.opens(day) >= since else None
    return None


def upcoming_nudges(due: date, work: WorkingTime, since: datetime) -> list[date]:
    """The days a date set at `since` is nudged on before it slips (what a confirmation
    promises): the working day before and the day itself, those still ahead."""
    days = sorted({work.working_day_before(due), due})
    return [d for d in days if is_nudge_day(due, d, work) and work.opens(d) >= since]
