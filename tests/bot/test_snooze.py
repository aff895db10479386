"""The pure parts of Snooze and Mute: reading a button's value, the day a snooze ends, and the
reminder with one subject's buttons turned into a line."""

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from bot.blocks.reminders import SNOOZE_ACTIONS, Subject, reminders, snoozed_in_place
from bot.snooze import MUTE, SNOOZE_DAY, SNOOZE_WEEK, parse_subject, snooze_end
from bot.working_time import DaysOff, WorkingTime

BERLIN = WorkingTime(ZoneInfo("Europe/Berlin"))


@pytest.mark.parametrize(
    ("value", "subject"),
    [
        ("deadline:12", Subject("deadline", 12)),
        ("milestone:3", Subject("milestone", 3)),
        ("milestone:999999999999999999", Subject("milestone", 999999999999999999)),
    ],
)
def test_a_value_of_ours_names_its_subject(value: str, subject: Subject) -> None:
    assert parse_subject(value) == subject
    assert parse_subject(subject.value) == subject


@pytest.mark.parametrize(
    "value",
    [
        None,
        12,
        "",
        "deadline",
        "deadline:",
        "deadline:-1",
        "deadline:1.5",
        "deadline:1 ",
        " deadline:1",
        "Deadline:1",
        "risk:1",
        "deadline:1:2",
        "deadline:١٢",  # digits, but not ASCII ones
        "deadline:1234567890123456789",  # beyond a 64-bit row id
    ],
)
def test_anything_else_names_nothing(value: object) -> None:
    assert parse_subject(value) is None


def test_the_three_buttons_are_the_three_actions() -> None:
    assert (SNOOZE_DAY, SNOOZE_WEEK, MUTE) == SNOOZE_ACTIONS


@pytest.mark.parametrize(
    ("today", "day", "week"),
    [
        (date(2026, 12, 2), date(2026, 12, 3), date(2026, 12, 7)),  # Wednesday
        (date(2026, 12, 4), date(2026, 12, 7), date(2026, 12, 7)),  # Friday
        (date(2026, 12, 6), date(2026, 12, 7), date(2026, 12, 7)),  # Sunday
        (date(2026, 12, 7), date(2026, 12, 8), date(2026, 12, 14)),  # Monday: the next one
    ],
)
def test_a_snooze_ends_on_a_working_day(today: date, day: date, week: date) -> None:
    assert snooze_end(SNOOZE_DAY, BERLIN, today) == day
    assert snooze_end(SNOOZE_WEEK, BERLIN, today) == week


def test_a_snooze_skips_holidays_and_the_teams_days_off() -> None:
    christmas = WorkingTime(
        ZoneInfo("Europe/Berlin"),
        off=DaysOff(frozenset({date(2026, 12, 24), date(2026, 12, 28)})),
    )
    assert snooze_end(SNOOZE_DAY, christmas, date(2026, 12, 23)) == date(2026, 12, 25)
    assert snooze_end(SNOOZE_WEEK, christmas, date(2026, 12, 23)) == date(2026, 12, 29)
    sun_thu = WorkingTime(ZoneInfo("Asia/Jerusalem"), days=frozenset({6, 0, 1, 2, 3}))
    assert snooze_end(SNOOZE_DAY, sun_thu, date(2026, 12, 3)) == date(2026, 12, 6)


def test_only_the_snoozed_subjects_buttons_become_a_line() -> None:
    first, second = Subject("deadline", 1), Subject("milestone", 2)
    message = reminders("for you", [("Deadline one", first), ("Milestone two", second)])

    updated = snoozed_in_place(message.blocks, first, "Snoozed until Mon 7 Dec 2026")

    assert [b["type"] for b in updated] == [
        b["type"] if b.get("block_id") != first.actions_id else "context" for b in message.blocks
    ]
    [line] = [b for b in updated if b.get("block_id") == first.actions_id]
    assert line["elements"][0]["text"] == "Snoozed until Mon 7 Dec 2026"
    assert [b for b in updated if b is not line] == [
        b for b in message.blocks if b.get("block_id") != first.actions_id
    ]
    # The line can be rewritten again (muted later), and a missing subject changes nothing.
    muted = snoozed_in_place(updated, first, "Muted")
    [again] = [b for b in muted if b.get("block_id") == first.actions_id]
    assert again["elements"][0]["text"] == "Muted"
    assert snoozed_in_place(updated, Subject("deadline", 9), "x") == updated
