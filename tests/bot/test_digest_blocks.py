"""Nudge and digest Block Kit: within Slack's limits at any size; digest rows update in place."""

from datetime import UTC, datetime, timedelta

from bot.blocks.digest import project_reply, settled_in_place
from bot.blocks.reminders import reminders
from sandbox.block_kit import MESSAGE_BLOCK_LIMIT, block_kit_errors
from storage.digest import Counted, ProjectDigest
from storage.items import QueuedItem
from storage.models import ItemKind, ItemStatus
from tests.bot.test_blocks import make_item

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def test_a_thousand_long_reminders_still_make_one_valid_message() -> None:
    lines = [
        f":calendar: Milestone *{'x' * 140}{n}* is due today · owner <@U1>" for n in range(1000)
    ]
    message = reminders("for <#C1>", lines)
    assert block_kit_errors(message.blocks, MESSAGE_BLOCK_LIMIT) == []
    assert message.text == "1,000 reminders for <#C1>"
    assert message.blocks[-1]["elements"][0]["text"].startswith("…and ")
    shown = sum(b["text"]["text"].count("\n") + 1 for b in message.blocks if b["type"] == "section")
    assert message.blocks[-1]["elements"][0]["text"] == f"…and {1000 - shown} more."


def blockers(*statuses: ItemStatus) -> ProjectDigest:
    items = [
        QueuedItem(
            make_item(f"blocker {n}", kind=ItemKind.BLOCKER, id=n, status=s, handled_by="U2"),
            0,
        )
        for n, s in enumerate(statuses, start=1)
    ]
    empty = Counted([], 0)
    return ProjectDigest(Counted(items, len(items)), empty, [], [], [])


def test_triaging_a_digest_row_twice_keeps_the_message_valid() -> None:
    reply = project_reply("C1", ["U2"], blockers(ItemStatus.OPEN, ItemStatus.OPEN), NOW, NOW.date())
    acknowledged = make_item(
        "blocker 1", kind=ItemKind.BLOCKER, id=1, status=ItemStatus.ACKNOWLEDGED, handled_by="U2"
    )
    once = settled_in_place(reply.blocks, QueuedItem(acknowledged, 0), NOW + timedelta(days=2))
    resolved = acknowledged.model_copy(update={"status": ItemStatus.RESOLVED})
    twice = settled_in_place(once, QueuedItem(resolved, 0), NOW)

    for blocks in (once, twice):
        assert block_kit_errors(blocks, MESSAGE_BLOCK_LIMIT) == []
    row = [b for b in twice if str(b.get("block_id", "")).startswith("blocker_actions_1")]
    assert [b["type"] for b in row] == ["context"]
    assert row[0]["elements"][0]["text"] == "*Resolved* by <@U2>"
    other = [b for b in twice if b.get("block_id") == "blocker_actions_2"]
    labels = [e["text"]["text"] for e in other[0]["elements"]]
    assert labels == ["Acknowledge", "Resolve", "Move to feedback", "Reassign"]
    line = next(b for b in once if b.get("block_id") == "blocker_1")["text"]["text"]
    assert line.endswith("_<@U1> · 37 days old · owned by <@U2>_")  # filed 2 Nov
