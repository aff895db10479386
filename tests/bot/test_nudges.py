"""Nudge days in working time: the working day before, the day, overdue daily for a week then
weekly; snoozes; only the newest nudge, written for the day it is read; nothing before a date
was set."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.nudges import Nudge, Stage, is_nudge_day, latest_nudge, upcoming_nudges
from bot.working_time import DaysOff, WorkingTime

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
TEAM = WorkingTime(BERLIN)  # Monday to Friday, 09:00-17:00
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)
WED = date(2026, 12, 2)  # a Wednesday


def berlin(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=BERLIN).astimezone(UTC)


def sent(
    due: date,
    start: datetime,
    days: float,
    work: WorkingTime = TEAM,
    since: datetime = LONG_AGO,
    daily_days: int = 7,
    snoozed_until: date | None = None,
    step: timedelta = timedelta(minutes=10),
) -> list[tuple[datetime, Nudge]]:
    """Tick every `step` for `days` days as the planner does: each nudge day is sent once (it
    is its key), at the first tick that finds it; with the local time it went out."""
    seen: dict[date, tuple[datetime, Nudge]] = {}
    at = start
    while at < start + timedelta(days=days):
        nudge = latest_nudge(due, work, at, since, daily_days, snoozed_until)
        if nudge is not None and nudge.day not in seen:
            seen[nudge.day] = (at.astimezone(work.tz), nudge)
        at += step
    return list(seen.values())


def nudge_days(
    due: date, work: WorkingTime = TEAM, daily_days: int = 7, days: int = 60
) -> list[date]:
    return [
        due + timedelta(days=n)
        for n in range(-5, days)
        if is_nudge_day(due, due + timedelta(days=n), work, daily_days)
    ]


def test_a_monday_due_date_is_nudged_on_friday_then_on_the_day() -> None:
    monday = date(2026, 12, 7)
    out = sent(monday, berlin(12, 3), days=5)  # Thursday to Monday night
    assert [(at.strftime("%a %H:%M"), n.stage) for at, n in out] == [
        ("Fri 09:00", Stage.DUE_SOON),
        ("Mon 09:00", Stage.DUE_TODAY),
    ]
    friday = out[0][1]
    assert (friday.day, friday.today, friday.due) == (date(2026, 12, 4), date(2026, 12, 4), monday)


def test_a_saturday_due_date_is_nudged_on_friday_then_overdue_from_monday() -> None:
    saturday = date(2026, 12, 5)
    out = sent(saturday, berlin(12, 3), days=12)
    assert [(at.strftime("%a %d %H:%M"), n.stage, n.days_overdue) for at, n in out] == [
        ("Fri 04 09:00", Stage.DUE_SOON, 0),
        ("Mon 07 09:00", Stage.OVERDUE, 2),
        ("Tue 08 09:00", Stage.OVERDUE, 3),
        ("Wed 09 09:00", Stage.OVERDUE, 4),
        ("Thu 10 09:00", Stage.OVERDUE, 5),
        ("Fri 11 09:00", Stage.OVERDUE, 6),
    ]


def test_overdue_daily_for_a_week_of_working_days_then_weekly_past_holidays() -> None:
    assert nudge_days(WED) == [
        date(2026, 12, 1),  # the working day before
        WED,
        *(date(2026, 12, d) for d in (3, 4, 7, 8, 9)),  # the working days of the week after
        *(date(2026, 12, d) for d in (16, 23, 30)),  # then weekly
        date(2027, 1, 6),
        date(2027, 1, 13),
        date(2027, 1, 20),
        date(2027, 1, 27),
    ]
    holidays = WorkingTime(BERLIN, off=DaysOff(frozenset({date(2026, 12, 23), date(2026, 12, 24)})))
    weekly = [d for d in nudge_days(WED, holidays) if d > date(2026, 12, 9)][:3]
    assert weekly == [date(2026, 12, 16), date(2026, 12, 25), date(2026, 12, 30)]


def test_a_project_manager_hears_once_when_it_slips_then_every_week() -> None:
    overdue = [d for d in nudge_days(WED, daily_days=1) if d > WED]
    assert overdue[:4] == [
        date(2026, 12, 3),
        date(2026, 12, 9),
        date(2026, 12, 16),
        date(2026, 12, 23),
    ]


def test_a_manager_whose_first_overdue_day_is_a_weekend_hears_on_monday() -> None:
    """Due Friday: Saturday is no working day, so Monday reads the newest nudge day (Friday's),
    written for Monday."""
    friday = date(2026, 12, 4)
    [(at, nudge)] = [(at, n) for at, n in sent(friday, berlin(12, 5), days=3, daily_days=1)]
    assert at.strftime("%a %H:%M") == "Mon 09:00"
    assert (nudge.day, nudge.stage, nudge.days_overdue) == (friday, Stage.OVERDUE, 3)


def test_a_snooze_holds_every_nudge_until_its_day_which_then_gets_one() -> None:
    snoozed = sent(WED, berlin(12, 3, 12), days=14, snoozed_until=date(2026, 12, 14))
    assert [(at.strftime("%a %d %H:%M"), n.days_overdue) for at, n in snoozed] == [
        ("Mon 14 09:00", 12),  # the day the snooze ends, though not a weekly day
        ("Wed 16 09:00", 14),  # then the schedule as before
    ]


def test_a_snooze_ending_on_a_holiday_resumes_on_the_next_working_day() -> None:
    holiday = WorkingTime(BERLIN, off=DaysOff(frozenset({date(2026, 12, 14)})))
    snoozed = sent(WED, berlin(12, 3, 12), days=14, work=holiday, snoozed_until=date(2026, 12, 12))
    assert [at.strftime("%a %d") for at, _ in snoozed] == ["Tue 15", "Wed 16"]


def test_after_a_gap_the_due_day_says_due_today_not_due_tomorrow() -> None:
    """Down from Monday noon until Wednesday afternoon: Tuesday's "due tomorrow" is skipped."""
    before = sent(WED, berlin(11, 30, 9), days=0.125)
    assert before == []
    [(at, nudge)] = sent(WED, berlin(12, 2, 15), days=0.5)
    assert at.strftime("%a %H:%M") == "Wed 15:00"
    assert (nudge.day, nudge.stage) == (WED, Stage.DUE_TODAY)


def test_after_a_long_gap_one_overdue_nudge_counted_on_the_day_it_is_read() -> None:
    [(at, nudge)] = sent(WED, berlin(12, 18, 16), days=0.5)
    # The newest nudge day is Wed 16 (weekly); it is read on Fri 18, at the first tick.
    assert at == berlin(12, 18, 16)
    assert (nudge.day, nudge.today, nudge.days_overdue) == (
        date(2026, 12, 16),
        date(2026, 12, 18),
        16,
    )


@pytest.mark.parametrize(
    "at", [berlin(12, 2, 8, 59), berlin(12, 2, 17), berlin(12, 5, 10), berlin(12, 6, 10)]
)
def test_nothing_is_due_outside_working_hours(at: datetime) -> None:
    assert latest_nudge(WED, TEAM, at, LONG_AGO) is None
    assert latest_nudge(date(2026, 12, 7), TEAM, at, LONG_AGO) is None


def test_nothing_is_due_two_working_days_ahead() -> None:
    assert latest_nudge(WED, TEAM, berlin(11, 30, 12), LONG_AGO) is None


def test_a_nudge_day_that_began_before_the_date_was_set_is_not_sent() -> None:
    """Set Tuesday 15:00 for Wednesday: no stale "due tomorrow" now; "due today" at 09:00."""
    set_at = berlin(12, 1, 15)
    assert [(at.strftime("%a %H:%M"), n.stage) for at, n in sent(WED, set_at, 1, since=set_at)] == [
        ("Wed 09:00", Stage.DUE_TODAY)
    ]
    early = berlin(12, 1, 8)  # set before Tuesday's nudge: it is sent
    assert [n.stage for _, n in sent(WED, early, 1.5, since=early)] == [
        Stage.DUE_SOON,
        Stage.DUE_TODAY,
    ]
    # Set on a Saturday for Monday: Friday's nudge is gone, Monday's comes.
    saturday = berlin(12, 5, 11)
    [(_, monday)] = sent(date(2026, 12, 7), saturday, 2.5, since=saturday)
    assert (monday.day, monday.stage) == (date(2026, 12, 7), Stage.DUE_TODAY)


def test_a_person_is_nudged_at_nine_in_their_own_zone() -> None:
    carol = TEAM.for_person("America/New_York")
    [(at, nudge), *_] = sent(WED, berlin(11, 30), days=3, work=carol)
    assert (at.tzinfo, at.time(), at.date()) == (NEW_YORK, time(9), date(2026, 12, 1))
    assert at.astimezone(BERLIN).time() == time(15)
    assert nudge.stage is Stage.DUE_SOON


@pytest.mark.parametrize(
    ("tz", "due"),
    [
        (NEW_YORK, date(2026, 11, 3)),  # Tuesday after fall-back (Sun 1 Nov)
        (NEW_YORK, date(2027, 3, 16)),  # Tuesday after spring-forward (Sun 14 Mar)
        (BERLIN, date(2026, 10, 27)),
        (BERLIN, date(2027, 3, 30)),
    ],
)
def test_each_nudge_lands_at_nine_local_once_per_day_across_dst(tz: ZoneInfo, due: date) -> None:
    work = WorkingTime(tz)
    start = datetime.combine(due - timedelta(days=5), time(0), tzinfo=tz).astimezone(UTC)
    out = sent(due, start, days=9, work=work)
    assert [at.date() for at, _ in out] == [
        due - timedelta(days=1),
        due,
        due + timedelta(days=1),
        due + timedelta(days=2),
        due + timedelta(days=3),  # Friday: then a weekend
    ]
    assert all(at.time() == time(9) for at, _ in out)


def test_a_confirmation_promises_the_working_days_still_ahead() -> None:
    monday = date(2026, 12, 7)
    assert upcoming_nudges(monday, TEAM, berlin(12, 2, 12)) == [date(2026, 12, 4), monday]
    assert upcoming_nudges(monday, TEAM, berlin(12, 4, 10)) == [monday]  # Friday's has begun
    assert upcoming_nudges(date(2026, 12, 5), TEAM, berlin(12, 2, 12)) == [date(2026, 12, 4)]
    holiday_monday = WorkingTime(BERLIN, off=DaysOff(frozenset({monday})))
    assert upcoming_nudges(monday, holiday_monday, berlin(12, 2, 12)) == [date(2026, 12, 4)]
    assert upcoming_nudges(WED, TEAM, berlin(12, 2, 10)) == []
