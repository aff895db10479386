"""Time rules: nudges at 09:00 local across DST changes, working hours, digest instants."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.schedule import (
    Stage,
    add_working_hours,
    current_nudge,
    is_zone,
    latest_digest,
    zone,
)

NEW_YORK = ZoneInfo("America/New_York")  # DST ends 2026-11-01, starts 2027-03-14
BERLIN = ZoneInfo("Europe/Berlin")  # DST ends 2026-10-25, starts 2027-03-28
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def every_minute_tick(start: datetime, end: datetime, step: timedelta) -> list[datetime]:
    ticks, at = [], start
    while at <= end:
        ticks.append(at)
        at += step
    return ticks


@pytest.mark.parametrize(
    ("tz", "due"),
    [
        (NEW_YORK, date(2026, 11, 2)),  # the day after fall-back
        (NEW_YORK, date(2027, 3, 15)),  # the day after spring-forward
        (BERLIN, date(2026, 10, 26)),
        (BERLIN, date(2027, 3, 29)),
    ],
)
def test_each_nudge_lands_at_nine_local_once_per_day_across_dst(tz: ZoneInfo, due: date) -> None:
    """Ticking every 10 minutes across the change: each local day's nudge first becomes due at
    exactly 09:00 local, and every day gets exactly one (keys are local days)."""
    start = datetime.combine(due - timedelta(days=3), time(0), tzinfo=tz).astimezone(UTC)
    first_due: dict[date, datetime] = {}
    for at in every_minute_tick(start, start + timedelta(days=6), timedelta(minutes=10)):
        nudge = current_nudge(due, tz, at, LONG_AGO)
        if nudge is not None:
            first_due.setdefault(nudge.day, at)
    expected_days = [due - timedelta(days=1) + timedelta(days=n) for n in range(4)]
    assert sorted(first_due) == expected_days
    for day, at in first_due.items():
        assert at.astimezone(tz).time() == time(9, 0), (day, at.astimezone(tz))


def test_stages_and_overdue_count() -> None:
    due = date(2026, 12, 10)
    at_nine = [
        datetime.combine(due + timedelta(days=d), time(9), tzinfo=BERLIN) for d in (-1, 0, 3)
    ]
    stages = [current_nudge(due, BERLIN, at.astimezone(UTC), LONG_AGO) for at in at_nine]
    assert [(n.stage, n.days_overdue) for n in stages if n] == [
        (Stage.DUE_TOMORROW, 0),
        (Stage.DUE_TODAY, 0),
        (Stage.OVERDUE, 3),
    ]


def test_nothing_is_due_two_days_ahead_or_before_nine() -> None:
    due = date(2026, 12, 10)
    assert current_nudge(due, BERLIN, utc(2026, 12, 8, 12), LONG_AGO) is None
    # 08:59 Berlin on the 9th: the 8th's 09:00 is the newest slot, and that is too early.
    assert current_nudge(due, BERLIN, utc(2026, 12, 9, 7, 59), LONG_AGO) is None


def test_after_downtime_only_the_newest_nudge_is_due() -> None:
    """Down from before "due tomorrow" until three days late: one overdue nudge, no backlog."""
    nudge = current_nudge(date(2026, 12, 10), NEW_YORK, utc(2026, 12, 13, 20), LONG_AGO)
    assert nudge is not None and (nudge.stage, nudge.day) == (Stage.OVERDUE, date(2026, 12, 13))


def test_a_nudge_planned_before_the_date_was_set_is_not_sent() -> None:
    """Added at 15:00 for tomorrow: no stale 'due tomorrow' right away; 'due today' at 09:00."""
    added = utc(2026, 12, 9, 15)
    due = date(2026, 12, 10)
    assert current_nudge(due, ZoneInfo("UTC"), utc(2026, 12, 9, 15, 1), added) is None
    nudge = current_nudge(due, ZoneInfo("UTC"), utc(2026, 12, 10, 9), added)
    assert nudge is not None and nudge.stage is Stage.DUE_TODAY


def test_working_hours_skip_the_weekend() -> None:
    friday_3pm = datetime(2026, 11, 27, 15, tzinfo=BERLIN)
    escalate = add_working_hours(friday_3pm.astimezone(UTC), 24, BERLIN)
    # Friday 15:00 to 24:00 is 9 hours; the other 15 fall on Monday.
    assert escalate.astimezone(BERLIN) == datetime(2026, 11, 30, 15, tzinfo=BERLIN)


def test_working_hours_across_a_dst_change_count_real_hours() -> None:
    """Berlin's fall-back day (Sunday) has 25 hours but is a weekend: Monday counts 24."""
    saturday = datetime(2026, 10, 24, 12, tzinfo=BERLIN).astimezone(UTC)
    assert add_working_hours(saturday, 24, BERLIN).astimezone(BERLIN) == datetime(
        2026, 10, 27, 0, tzinfo=BERLIN
    )
    # New York's spring-forward is a Sunday too; a weekday count straddling it stays exact.
    friday = datetime(2027, 3, 12, 20, tzinfo=NEW_YORK).astimezone(UTC)
    assert add_working_hours(friday, 8, NEW_YORK).astimezone(NEW_YORK) == datetime(
        2027, 3, 15, 4, tzinfo=NEW_YORK
    )


def test_latest_digest_slot_and_week() -> None:
    monday_nine = time(9)
    before = latest_digest(utc(2026, 11, 30, 7, 59), BERLIN, 0, monday_nine)
    after = latest_digest(utc(2026, 11, 30, 8, 0), BERLIN, 0, monday_nine)
    assert before.day == date(2026, 11, 23) and after.day == date(2026, 11, 30)
    assert after.at == datetime(2026, 11, 30, 9, tzinfo=BERLIN)
    assert (before.week, after.week) == ("2026-W48", "2026-W49")
    assert latest_digest(utc(2026, 12, 3), BERLIN, 0, monday_nine).week_of == date(2026, 11, 30)


@pytest.mark.parametrize("tz", [NEW_YORK, BERLIN])
def test_the_digest_stays_at_its_local_time_across_dst(tz: ZoneInfo) -> None:
    slots = {
        latest_digest(at, tz, 0, time(9)).at
        for at in every_minute_tick(utc(2026, 10, 15), utc(2026, 11, 15), timedelta(hours=1))
    }
    assert all(s.astimezone(tz).time() == time(9) for s in slots)
    assert all(s.astimezone(tz).weekday() == 0 for s in slots)
    assert len(slots) == 5  # one per Monday in range, including the weeks of the change


def test_zone_names() -> None:
    assert is_zone("Europe/Berlin") and not is_zone("Mars/Olympus") and not is_zone("../etc")
    assert zone("Mars/Olympus") == ZoneInfo("UTC")
