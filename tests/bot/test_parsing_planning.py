"""Parsing /milestone, /deadline, /digest and the time settings of /rolecall."""

from datetime import date, time

import pytest

from bot.parsing.planning import (
    AddDeadline,
    AddMilestone,
    CloseDeadline,
    CloseMilestone,
    ListDeadlines,
    ListMilestones,
    MoveMilestone,
    PostDigest,
    PreviewDigest,
    ScheduleDigest,
    parse_deadline_command,
    parse_digest_command,
    parse_milestone_command,
)
from bot.parsing.team import SetEscalation, SetTimezone, parse_settings_command
from bot.parsing.words import UsageError, name_key

DEC_1 = date(2026, 12, 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ListMilestones()),
        ("list", ListMilestones()),
        ("add Beta 2026-12-01", AddMilestone("Beta", DEC_1, None)),
        (
            "add Public beta launch 2026-12-01 <@U1|ann>",
            AddMilestone("Public beta launch", DEC_1, "U1"),
        ),
        # The date is the last date-shaped word; earlier ones belong to the name.
        (
            "add Freeze 2026-11-30 retro 2026-12-01",
            AddMilestone("Freeze 2026-11-30 retro", DEC_1, None),
        ),
        ("move Public beta 2026-12-01", MoveMilestone("Public beta", DEC_1)),
        ("done  Public   beta", CloseMilestone("Public beta")),
    ],
)
def test_milestone_commands(text: str, expected: object) -> None:
    assert parse_milestone_command(text) == expected


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("add Beta", "Usage: `/milestone add"),
        ("add 2026-12-01", "Usage: `/milestone add"),
        ("add Beta 2026-02-30", "`2026-02-30` is not a date on the calendar"),
        ("move Beta", "Usage"),
        ("done", "Usage"),
        ("rename Beta Gamma", "Usage"),
        ("add Beta 2026-12-01 <@U1> <@U2>", "Usage"),
        ("add " + "x" * 151 + " 2026-12-01", "too long"),
    ],
)
def test_bad_milestone_commands_get_usage(text: str, reply: str) -> None:
    with pytest.raises(UsageError) as raised:
        parse_milestone_command(text)
    assert reply in str(raised.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("list", ListDeadlines()),
        ("Write the launch post 2026-12-01", AddDeadline("Write the launch post", DEC_1, None)),
        ("Review &lt;API&gt; 2026-12-01 <@U9>", AddDeadline("Review &lt;API&gt;", DEC_1, "U9")),
        ("done 12", CloseDeadline("12")),
        ("done #12", CloseDeadline("12")),
        ("done Write the launch post", CloseDeadline("Write the launch post")),
        ("done with the audit 2026-12-01", AddDeadline("done with the audit", DEC_1, None)),
    ],
)
def test_deadline_commands(text: str, expected: object) -> None:
    assert parse_deadline_command(text) == expected


@pytest.mark.parametrize(
    "text", ["", "help", "Write the post", "2026-12-01", "done", "x 2026-13-01"]
)
def test_bad_deadline_commands_get_usage(text: str) -> None:
    with pytest.raises(UsageError):
        parse_deadline_command(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", PreviewDigest()),
        ("post", PostDigest()),
        ("schedule monday 09:00", ScheduleDigest(0, time(9), None)),
        (
            "schedule Fri 16:30 America/New_York",
            ScheduleDigest(4, time(16, 30), "America/New_York"),
        ),
        ("schedule su 7:05", ScheduleDigest(6, time(7, 5), None)),
    ],
)
def test_digest_commands(text: str, expected: object) -> None:
    assert parse_digest_command(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "schedule",
        "schedule funday 09:00",
        "schedule mon 25:00",
        "schedule mon 9",
        "schedule m 09:00",
        "schedule mon 09:00 Mars/Base",
        "send",
    ],
)
def test_bad_digest_commands_get_usage(text: str) -> None:
    with pytest.raises(UsageError):
        parse_digest_command(text)


def test_time_settings() -> None:
    assert parse_settings_command("timezone Asia/Tokyo") == SetTimezone("Asia/Tokyo")
    assert parse_settings_command("escalation 8") == SetEscalation(8)
    for bad in ("timezone Nowhere", "escalation 0", "escalation soon", "escalation 9999"):
        with pytest.raises(UsageError):
            parse_settings_command(bad)


def test_names_match_whatever_the_case_and_spacing() -> None:
    assert name_key("  Public   BETA ") == name_key("public beta") == "public beta"
