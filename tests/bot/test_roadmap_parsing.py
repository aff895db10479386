"""What people type for `/roadmap` and `/milestone show` → typed commands or a usage reply."""

import pytest

from bot.parsing.planning import ShowMilestone, parse_milestone_command
from bot.parsing.roadmap import (
    ROADMAP_USAGE,
    AddTheme,
    LinkMilestone,
    RemoveTheme,
    ShowRoadmap,
    UnlinkMilestone,
    parse_roadmap_command,
)
from bot.parsing.words import UsageError
from storage.roadmap import Quarter


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("", ShowRoadmap()),
        ("  show ", ShowRoadmap()),
        (
            'add "Self-serve onboarding" 2027-Q1',
            AddTheme("Self-serve onboarding", Quarter(2027, 1)),
        ),
        ("ADD Self-serve  onboarding 2027q1", AddTheme("Self-serve onboarding", Quarter(2027, 1))),
        ("add “Billing” q3 2027", AddTheme("Billing", Quarter(2027, 3))),
        ("add Q4 Push Q4 2026", AddTheme("Q4 Push", Quarter(2026, 4))),
        (
            'link "Self-serve onboarding" Public beta',
            LinkMilestone((("Self-serve onboarding", "Public beta"),)),
        ),
        (
            "link Onboarding Public beta",
            LinkMilestone((("Onboarding", "Public beta"), ("Onboarding Public", "beta"))),
        ),
        ('unlink "Public beta"', UnlinkMilestone("Public beta")),
        ("unlink Public beta", UnlinkMilestone("Public beta")),
        ('remove "Self-serve onboarding"', RemoveTheme("Self-serve onboarding")),
        ("remove Billing", RemoveTheme("Billing")),
    ],
)
def test_roadmap_commands(text: str, parsed: object) -> None:
    assert parse_roadmap_command(text) == parsed


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("help", ROADMAP_USAGE),
        ("show me everything", ROADMAP_USAGE),
        ("add", ROADMAP_USAGE),
        ("add 2027-Q1", ROADMAP_USAGE),  # no name
        ('add "" 2027-Q1', ROADMAP_USAGE),
        ("add Billing next year", "`year` is not a quarter: end with one like `2027-Q1`."),
        ("add Billing 2027-Q0", "`2027-Q0` is not a quarter"),
        ("add Billing <!channel>", "`&lt;!channel&gt;` is not a quarter"),  # echoed, escaped
        ("link Onboarding", ROADMAP_USAGE),
        ('link "Onboarding"', ROADMAP_USAGE),  # no milestone after the theme
        ("unlink", ROADMAP_USAGE),
        ("remove", ROADMAP_USAGE),
        ("add " + "x" * 200 + " 2027-Q1", "That name is too long"),
    ],
)
def test_bad_roadmap_input_is_a_usage_error(text: str, reply: str) -> None:
    with pytest.raises(UsageError) as error:
        parse_roadmap_command(text)
    assert str(error.value).startswith(reply)


def test_the_usage_renders_as_text_not_markup() -> None:
    assert "<" not in ROADMAP_USAGE and "&lt;theme&gt;" in ROADMAP_USAGE


def test_milestone_show_takes_a_name_of_several_words() -> None:
    assert parse_milestone_command("show  Public beta") == ShowMilestone("Public beta")
    with pytest.raises(UsageError):
        parse_milestone_command("show")
