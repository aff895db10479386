"""Working time: when a team (or a person) is at work, and working hours counted across nights,
weekends, holidays and DST changes."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.working_time import DaysOff, WorkingTime, days_label, parse_days
from storage.models import TeamSettings

BERLIN = ZoneInfo("Europe/Berlin")  # DST ends Sun 2026-10-25, starts Sun 2027-03-28
NEW_YORK = ZoneInfo("America/New_York")  # DST ends Sun 2026-11-01, starts Sun 2027-03-14
EVERY_DAY = frozenset(range(7))


def local(
    tz: ZoneInfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0
) -> datetime:
    """A wall-clock time in `tz`, as the UTC instant the code works in."""
    return datetime(year, month, day, hour, minute, tzinfo=tz).astimezone(UTC)


def berlin(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return local(BERLIN, 2026, month, day, hour, minute)


TEAM = WorkingTime(BERLIN)  # Monday to Friday, 09:00-17:00


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        (berlin(12, 1, 4, 50), 8, berlin(12, 1, 17)),  # the night before counts nothing
        (berlin(12, 1, 10), 7, berlin(12, 1, 17)),  # ends on the closing minute
        (berlin(12, 1, 10), 8, berlin(12, 2, 10)),  # the evening and night are skipped
        (berlin(12, 1, 18, 30), 1, berlin(12, 2, 10)),  # after hours: counted from 09:00
        (berlin(11, 27, 15), 8, berlin(11, 30, 15)),  # Friday 2 h, Monday 6 h
        (berlin(11, 28, 12), 1, berlin(11, 30, 10)),  # raised on a Saturday
        (berlin(11, 30, 9, 30), 24, berlin(12, 3, 9, 30)),  # 24 working hours: three days
        (berlin(12, 1, 12), 0, berlin(12, 1, 12)),
        (berlin(12, 5, 12), 0, berlin(12, 7, 9)),  # even zero hours waits for a working day
    ],
)
def test_add_working_hours_counts_only_open_hours(
    start: datetime, hours: int, expected: datetime
) -> None:
    assert TEAM.add_working_hours(start, hours) == expected


def test_a_team_holiday_is_not_a_working_hour() -> None:
    boxing_day_off = WorkingTime(BERLIN, off=DaysOff(frozenset({date(2026, 12, 28)})))
    # Friday 15:00 + 8 h: Friday 2 h, Monday (a holiday) none, Tuesday 6 h.
    assert boxing_day_off.add_working_hours(berlin(12, 25, 15), 8) == berlin(12, 29, 15)
    assert TEAM.add_working_hours(berlin(12, 25, 15), 8) == berlin(12, 28, 15)


def test_a_region_calendar_has_its_own_holidays() -> None:
    """Corpus Christi (Thu 4 Jun 2026) is a public holiday in Bavaria, not in Germany as a
    whole."""
    bavaria = WorkingTime(BERLIN, off=DaysOff(region="DE-BY"))
    germany = WorkingTime(BERLIN, off=DaysOff(region="DE"))
    wednesday_4pm = berlin(6, 3, 16)
    assert bavaria.add_working_hours(wednesday_4pm, 2) == berlin(6, 5, 10)
    assert germany.add_working_hours(wednesday_4pm, 2) == berlin(6, 4, 10)
    assert not bavaria.is_working_day(date(2026, 6, 4)) and germany.is_working_day(date(2026, 6, 4))
    assert not germany.is_working_day(date(2026, 12, 25))  # a national one counts everywhere


def test_an_unknown_region_is_refused() -> None:
    with pytest.raises(NotImplementedError):
        WorkingTime(BERLIN, off=DaysOff(region="XX")).is_working_day(date(2026, 6, 4))


@pytest.mark.parametrize(
    ("tz", "friday", "monday"),
    [
        (BERLIN, date(2026, 10, 23), date(2026, 10, 26)),  # fall-back weekend
        (BERLIN, date(2027, 3, 26), date(2027, 3, 29)),  # spring-forward weekend
        (NEW_YORK, date(2026, 10, 30), date(2026, 11, 2)),
        (NEW_YORK, date(2027, 3, 12), date(2027, 3, 15)),
    ],
)
def test_across_a_dst_weekend_working_hours_keep_their_wall_clock_times(
    tz: ZoneInfo, friday: date, monday: date
) -> None:
    work = WorkingTime(tz)
    start = datetime.combine(friday, time(15), tzinfo=tz).astimezone(UTC)
    escalates = work.add_working_hours(start, 8)
    assert escalates.astimezone(tz) == datetime.combine(monday, time(15), tzinfo=tz)
    assert work.next_opening(start + timedelta(hours=3)).astimezone(tz).time() == time(9)


@pytest.mark.parametrize(
    ("tz", "sunday", "real_hours"),
    [
        (BERLIN, date(2026, 10, 25), 9),  # 00:00-08:00 holds an hour twice
        (BERLIN, date(2027, 3, 28), 7),  # 02:00-03:00 never happens
        (NEW_YORK, date(2026, 11, 1), 9),
        (NEW_YORK, date(2027, 3, 14), 7),
    ],
)
def test_working_hours_on_a_dst_day_are_real_hours(
    tz: ZoneInfo, sunday: date, real_hours: int
) -> None:
    """A night shift working every day 00:00-08:00: the change day has 7 or 9 real hours, and
    the count is of real hours, not wall-clock ones."""
    nights = WorkingTime(tz, days=EVERY_DAY, start=time(0), end=time(8))
    opens = datetime.combine(sunday, time(0), tzinfo=tz).astimezone(UTC)
    closes = datetime.combine(sunday, time(8), tzinfo=tz).astimezone(UTC)
    assert closes - opens == timedelta(hours=real_hours)
    assert nights.add_working_hours(opens, real_hours) == closes
    next_day = datetime.combine(sunday + timedelta(days=1), time(1), tzinfo=tz).astimezone(UTC)
    assert nights.add_working_hours(opens, real_hours + 1) == next_day


@pytest.mark.parametrize(
    ("at", "is_open"),
    [
        (berlin(12, 1, 8, 59), False),
        (berlin(12, 1, 9), True),  # opening minute: open
        (berlin(12, 1, 16, 59), True),
        (berlin(12, 1, 17), False),  # closing minute: closed
        (berlin(12, 5, 12), False),  # Saturday
        (berlin(12, 6, 12), False),  # Sunday
    ],
)
def test_is_open_edges(at: datetime, is_open: bool) -> None:
    assert TEAM.is_open(at) is is_open


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (berlin(12, 1, 11), berlin(12, 1, 11)),  # at work: now
        (berlin(12, 1, 7), berlin(12, 1, 9)),  # early: this morning
        (berlin(12, 1, 17), berlin(12, 2, 9)),  # closed: tomorrow
        (berlin(12, 4, 20), berlin(12, 7, 9)),  # Friday evening: Monday
        (berlin(12, 6, 8), berlin(12, 7, 9)),  # Sunday: Monday
    ],
)
def test_next_opening(at: datetime, expected: datetime) -> None:
    assert TEAM.next_opening(at) == expected


def test_next_opening_skips_holidays() -> None:
    christmas = WorkingTime(
        BERLIN, off=DaysOff(frozenset({date(2026, 12, 25), date(2026, 12, 28)}))
    )
    # Christmas Eve after hours: Friday and Monday are off, the weekend between too.
    assert christmas.next_opening(berlin(12, 24, 17, 30)) == berlin(12, 29, 9)


def test_working_days_before_and_from() -> None:
    holiday_monday = WorkingTime(BERLIN, off=DaysOff(frozenset({date(2026, 12, 7)})))
    assert TEAM.working_day_before(date(2026, 12, 7)) == date(2026, 12, 4)  # Monday: Friday
    assert holiday_monday.working_day_before(date(2026, 12, 8)) == date(2026, 12, 4)
    assert TEAM.working_day_from(date(2026, 12, 5)) == date(2026, 12, 7)
    assert holiday_monday.working_day_from(date(2026, 12, 5)) == date(2026, 12, 8)
    assert TEAM.working_day_from(date(2026, 12, 2)) == date(2026, 12, 2)


def test_a_team_without_working_days_in_reach_does_not_loop_forever() -> None:
    always_off = WorkingTime(
        BERLIN, days=frozenset({0}), off=DaysOff(away=((date(2026, 1, 1), date(2028, 1, 1)),))
    )
    assert always_off.working_day_from(date(2026, 12, 1)) > date(2027, 12, 1)


def test_a_persons_working_time_is_in_their_zone_and_stops_while_away() -> None:
    team = WorkingTime.of_team(
        TeamSettings(channel_id="C1", timezone="Europe/Berlin", work_start=8 * 60),
        [date(2026, 12, 24)],
    )
    carol = team.for_person("America/New_York", [(date(2026, 12, 2), date(2026, 12, 3))])
    assert team.start == time(8) and carol.start == time(8)
    assert team.is_open(berlin(12, 1, 8)) and not carol.is_open(berlin(12, 1, 8))  # 02:00 NY
    assert carol.next_opening(berlin(12, 1, 8)) == local(NEW_YORK, 2026, 12, 1, 8)
    # Away Wednesday and Thursday: back on Friday morning, her time.
    assert carol.next_opening(local(NEW_YORK, 2026, 12, 2, 10)) == local(NEW_YORK, 2026, 12, 4, 8)
    assert not carol.is_working_day(date(2026, 12, 24))  # the team's holiday is hers too
    assert team.is_working_day(date(2026, 12, 2))  # her time away is not the team's


def test_stored_working_days_and_their_label() -> None:
    assert parse_days("0,1,2,3,4") == frozenset(range(5))
    assert parse_days("") == parse_days("junk") == parse_days("9") == frozenset(range(5))
    assert days_label(frozenset(range(5))) == "mon-fri"
    assert days_label(frozenset({6, 0, 1, 2, 3})) == "sun-thu"
    assert days_label(frozenset({0, 2, 4})) == "mon, wed, fri"
