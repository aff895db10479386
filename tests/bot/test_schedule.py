"""Time rules: local instants across DST changes, zone names, digest instants."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.schedule import is_zone, latest_digest, local_instant, local_today, zone

NEW_YORK = ZoneInfo("America/New_York")  # DST ends 2026-11-01, starts 2027-03-14
BERLIN = ZoneInfo("Europe/Berlin")  # DST ends 2026-10-25, starts 2027-03-28


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def every(start: datetime, end: datetime, step: timedelta) -> list[datetime]:
    ticks, at = [], start
    while at <= end:
        ticks.append(at)
        at += step
    return ticks


@pytest.mark.parametrize(
    ("tz", "day", "expected"),
    [
        (BERLIN, date(2026, 10, 24), utc(2026, 10, 24, 7)),  # the day before fall-back: CEST
        (BERLIN, date(2026, 10, 26), utc(2026, 10, 26, 8)),  # the day after: CET
        (NEW_YORK, date(2027, 3, 13), utc(2027, 3, 13, 14)),  # before spring-forward: EST
        (NEW_YORK, date(2027, 3, 15), utc(2027, 3, 15, 13)),  # after: EDT
    ],
)
def test_nine_local_is_nine_local_on_both_sides_of_a_change(
    tz: ZoneInfo, day: date, expected: datetime
) -> None:
    assert local_instant(day, time(9), tz) == expected
    assert local_today(expected, tz) == day


def test_a_skipped_or_repeated_wall_time_is_one_instant() -> None:
    # 02:30 does not exist on 14 Mar 2027 in New York: read with the offset before (EST).
    assert local_instant(date(2027, 3, 14), time(2, 30), NEW_YORK) == utc(2027, 3, 14, 7, 30)
    # 02:30 happens twice on 25 Oct 2026 in Berlin: the first one (CEST).
    assert local_instant(date(2026, 10, 25), time(2, 30), BERLIN) == utc(2026, 10, 25, 0, 30)


def test_latest_digest_slot_and_week() -> None:
    monday_nine = time(9)
    before = latest_digest(utc(2026, 11, 30, 7, 59), BERLIN, 0, monday_nine)
    after = latest_digest(utc(2026, 11, 30, 8, 0), BERLIN, 0, monday_nine)
    assert before.day == date(2026, 11, 23) and after.day == date(2026, 11, 30)
    assert after.at == datetime(2026, 11, 30, 9, tzinfo=BERLIN)
    assert (before.week, after.week) == ("2026-W48", "2026-W49")
    assert latest_digest(utc(2026, 12, 3), BERLIN, 0, monday_nine).day == date(2026, 11, 30)


@pytest.mark.parametrize("tz", [NEW_YORK, BERLIN])
def test_the_digest_stays_at_its_local_time_across_dst(tz: ZoneInfo) -> None:
    slots = {
        latest_digest(at, tz, 0, time(9)).at
        for at in every(utc(2026, 10, 15), utc(2026, 11, 15), timedelta(hours=1))
    }
    assert all(s.astimezone(tz).time() == time(9) for s in slots)
    assert all(s.astimezone(tz).weekday() == 0 for s in slots)
    assert len(slots) == 5  # one per Monday in range, including the weeks of the change


def test_zone_names() -> None:
    assert is_zone("Europe/Berlin") and not is_zone("Mars/Olympus") and not is_zone("../etc")
    assert zone("Mars/Olympus") == ZoneInfo("UTC")
