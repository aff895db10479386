"""/rolecall workweek, holiday, holidays, away, escalate and quiet-week: what people type."""

from datetime import date

import pytest

from bot.parsing.team import (
    SetEscalationDelivery,
    SetQuietWeek,
    parse_rolecall_command,
)
from bot.parsing.words import UsageError
from bot.parsing.working_time import (
    AddHoliday,
    ClearAway,
    ListHolidays,
    RemoveHoliday,
    SetAway,
    SetHolidayRegion,
    SetWorkWeek,
    ShowAway,
    ShowHolidayRegion,
    ShowWorkWeek,
)
from storage.models import EscalationDelivery, QuietWeek

MON_FRI = frozenset(range(5))
NINE_TO_FIVE = (9 * 60, 17 * 60)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("workweek", ShowWorkWeek()),
        ("WorkWeek  ", ShowWorkWeek()),
        ("workweek mon-fri 09:00-17:00", SetWorkWeek(MON_FRI, NINE_TO_FIVE)),
        ("workweek 09:00-17:00 mon-fri", SetWorkWeek(MON_FRI, NINE_TO_FIVE)),
        ("workweek Monday-Friday 9:00 - 17:00", SetWorkWeek(MON_FRI, NINE_TO_FIVE)),
        ("work-week mon - fri", SetWorkWeek(MON_FRI, None)),
        ("workweek sun-thu", SetWorkWeek(frozenset({6, 0, 1, 2, 3}), None)),
        ("workweek fri-mon", SetWorkWeek(frozenset({4, 5, 6, 0}), None)),
        ("workweek mon,tue,thu", SetWorkWeek(frozenset({0, 1, 3}), None)),
        ("workweek mon, tues, thurs", SetWorkWeek(frozenset({0, 1, 3}), None)),
        ("workweek mon-wed,fri", SetWorkWeek(frozenset({0, 1, 2, 4}), None)),
        ("workweek sat", SetWorkWeek(frozenset({5}), None)),
        ("workweek 08:30-16:30", SetWorkWeek(None, (510, 990))),
        ("workweek 00:00-23:59", SetWorkWeek(None, (0, 1439))),
    ],
)
def test_workweek(text: str, expected: object) -> None:
    assert parse_rolecall_command(text) == expected


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("workweek 17:00-09:00", "In `17:00-09:00` the day ends before it starts"),
        ("workweek 09:00-09:00", "In `09:00-09:00` the day ends before it starts"),
        ("workweek 09:00-24:00", "`09:00-24:00` is not a time of day"),
        ("workweek 09:60-17:00", "`09:60-17:00` is not a time of day"),
        ("workweek 9am-5pm", "`9am` is not a day of the week"),
        ("workweek 09:00", "`09:00` is not working hours"),
        ("workweek mo-fr", "`mo` is not a day of the week"),
        ("workweek funday", "`funday` is not a day of the week"),
        ("workweek mon,,tue", "Usage: `/rolecall workweek mon-fri 09:00-17:00`"),
        ("workweek mon-fri sat", "Usage: `/rolecall workweek mon-fri 09:00-17:00`"),
        ("workweek 09:00-12:00 13:00-17:00", "Usage: `/rolecall workweek mon-fri 09:00-17:00`"),
        ("workweek <!here>", "`&lt;!here&gt;` is not a day of the week"),
    ],
)
def test_bad_workweek_says_what_to_type(text: str, reply: str) -> None:
    with pytest.raises(UsageError) as raised:
        parse_rolecall_command(text)
    assert str(raised.value).startswith(reply)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("holiday", ListHolidays()),
        ("holiday list", ListHolidays()),
        ("holidays list", ListHolidays()),
        ("holiday add 2026-12-25", AddHoliday(date(2026, 12, 25), "")),
        (
            "holiday add 2026-12-25 Christmas   &amp; <!here>",
            AddHoliday(date(2026, 12, 25), "Christmas &amp; <!here>"),
        ),
        ("holiday ADD 2026-12-24 " + "x" * 100, AddHoliday(date(2026, 12, 24), "x" * 100)),
        ("holiday remove 2026-12-25", RemoveHoliday(date(2026, 12, 25))),
        ("holidays", ShowHolidayRegion()),
        ("holidays DE-BY", SetHolidayRegion("DE-BY")),
        ("holidays de_by", SetHolidayRegion("DE-by")),
        ("holidays nl-Noord", SetHolidayRegion("NL-Noord")),
        ("holidays us", SetHolidayRegion("US")),
        ("holiday GB-ENG", SetHolidayRegion("GB-ENG")),
        ("holidays off", SetHolidayRegion(None)),
    ],
)
def test_holidays(text: str, expected: object) -> None:
    assert parse_rolecall_command(text) == expected


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("holiday add", "Usage: `/rolecall holiday add 2026-12-25 [name]`"),
        ("holiday remove", "Usage: `/rolecall holiday add 2026-12-25 [name]`"),
        ("holiday list all", "Usage: `/rolecall holiday add 2026-12-25 [name]`"),
        ("holiday add 25/12/2026 Christmas", "`25/12/2026` is not a date: use YYYY-MM-DD."),
        ("holiday add 2026-02-30", "`2026-02-30` is not a date on the calendar"),
        ("holiday remove 2026-12-25 Christmas", "Usage: `/rolecall holiday add"),
        ("holiday add 2026-12-25 " + "x" * 101, "Keep a holiday's name under 100 characters."),
        ("holidays D", "`D` is not a country or region code"),
        ("holidays <!here>", "`&lt;!here&gt;` is not a country or region code"),
        ("holidays DE-BY-and-more-words-here", "`DE-BY-and-more-words-here` is not a country"),
        ("holidays DE BY", "Usage: `/rolecall holiday add"),
    ],
)
def test_bad_holidays_say_what_to_type(text: str, reply: str) -> None:
    with pytest.raises(UsageError) as raised:
        parse_rolecall_command(text)
    assert str(raised.value).startswith(reply)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("away", ShowAway()),
        ("away list", ShowAway()),
        ("away OFF", ClearAway()),
        ("away 2026-12-21", SetAway(date(2026, 12, 21), date(2026, 12, 21))),
        ("away 2026-12-21 2027-01-03", SetAway(date(2026, 12, 21), date(2027, 1, 3))),
        ("away 2026-12-21 to 2027-01-03", SetAway(date(2026, 12, 21), date(2027, 1, 3))),
        ("away 2026-01-01 2027-01-01", SetAway(date(2026, 1, 1), date(2027, 1, 1))),
        ("away 2028-01-01 2028-12-31", SetAway(date(2028, 1, 1), date(2028, 12, 31))),
    ],
)
def test_away(text: str, expected: object) -> None:
    assert parse_rolecall_command(text) == expected


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("away 2027-01-03 2026-12-21", "Your time away ends (2026-12-21) before it starts"),
        ("away 2026-01-01 2027-01-02", "Time away covers at most 366 days at once."),
        ("away tomorrow", "Usage: `/rolecall away 2026-12-21 2027-01-03`"),
        ("away 2026-12-21 2026-12-22 2026-12-23", "Usage: `/rolecall away"),
        ("away 2026-12-32", "`2026-12-32` is not a date on the calendar"),
    ],
)
def test_bad_away_says_what_to_type(text: str, reply: str) -> None:
    with pytest.raises(UsageError) as raised:
        parse_rolecall_command(text)
    assert str(raised.value).startswith(reply)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("escalate dm", SetEscalationDelivery(EscalationDelivery.DM)),
        ("escalate CHANNEL", SetEscalationDelivery(EscalationDelivery.CHANNEL)),
        ("quiet-week skip", SetQuietWeek(QuietWeek.SKIP)),
        ("quiet_week Post", SetQuietWeek(QuietWeek.LINE)),
    ],
)
def test_escalate_and_quiet_week(text: str, expected: object) -> None:
    assert parse_rolecall_command(text) == expected


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("escalate", "Usage: `/rolecall escalate dm`"),
        ("escalate both", "Usage: `/rolecall escalate dm`"),
        ("escalate dm channel", "Usage: `/rolecall escalate dm`"),
        ("quiet-week", "Usage: `/rolecall quiet-week skip`"),
        ("quiet-week line", "Usage: `/rolecall quiet-week skip`"),
    ],
)
def test_bad_escalate_and_quiet_week(text: str, reply: str) -> None:
    with pytest.raises(UsageError) as raised:
        parse_rolecall_command(text)
    assert str(raised.value).startswith(reply)


def test_the_settings_usage_names_the_new_subcommands() -> None:
    with pytest.raises(UsageError) as raised:
        parse_rolecall_command("frobnicate")
    usage = str(raised.value)
    for word in ("workweek", "holiday add", "holidays DE-BY", "away", "escalate", "quiet-week"):
        assert f"/rolecall {word}" in usage
