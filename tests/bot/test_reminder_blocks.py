"""The reminder message: overdue lines with their own buttons, each line shown once."""

from typing import Any

from bot.blocks.reminders import SNOOZABLE_SHOWN, Subject, reminders


def _texts(blocks: list[dict[str, Any]]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] == "section"]


def test_every_line_shows_once_with_buttons_only_on_overdue_lines() -> None:
    message = reminders(
        "for you",
        [
            ("overdue deadline", Subject("deadline", 1)),
            ("due tomorrow", None),
            ("overdue milestone", Subject("milestone", 2)),
        ],
    )
    blocks = message.blocks
    assert _texts(blocks) == ["overdue deadline", "overdue milestone", "due tomorrow"]
    actions = [b for b in blocks if b["type"] == "actions"]
    assert [a["block_id"] for a in actions] == ["snooze_deadline_1", "snooze_milestone_2"]
    assert [e["value"] for e in actions[0]["elements"]] == ["deadline:1"] * 3


def test_beyond_the_buttoned_lines_the_rest_are_packed_and_nothing_is_lost() -> None:
    overdue = [(f"overdue {n}", Subject("deadline", n)) for n in range(SNOOZABLE_SHOWN + 5)]
    blocks = reminders("for you", overdue).blocks
    assert len([b for b in blocks if b["type"] == "actions"]) == SNOOZABLE_SHOWN
    lines = "\n".join(_texts(blocks)).split("\n")
    assert sorted(lines) == sorted(line for line, _ in overdue)
    assert len(blocks) <= 50
