"""Nudge and digest Block Kit: within Slack's limits at any size; digest rows update in place,
their headings are recounted; periods are labelled by their days; counts add up to the rows."""

import json
from datetime import UTC, date, datetime, timedelta

from bot.blocks.common import Names
from bot.blocks.digest import (
    period_label,
    product_headings,
    product_reply,
    project_headings,
    project_reply,
    settled_in_place,
)
from bot.blocks.reminders import reminders
from sandbox.block_kit import MESSAGE_BLOCK_LIMIT, block_kit_errors
from storage.digest import Counted, FeedbackCounts, ProductDigest, ProjectDigest
from storage.items import QueuedItem
from storage.models import Deadline, ItemKind, ItemStatus
from storage.queues import Risks
from tests.bot.test_blocks import make_item

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
PERIOD = "30 Nov \N{EN DASH} 6 Dec"
NAMES = Names({"U1": "Ann Lee", "U2": "Bo Chen", "U3": "Cy"})


def test_a_thousand_long_reminders_still_make_one_valid_message() -> None:
    lines = [
        f":calendar: Milestone *{'x' * 140}{n}* is due today · owner <@U1>" for n in range(1000)
    ]
    message = reminders("for <#C1>", [(line, None) for line in lines])  # none snoozable
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
    return ProjectDigest(Counted(items, len(items)), empty, [], [], [], 0)


def test_triaging_a_digest_row_twice_keeps_the_message_valid() -> None:
    digest = blockers(ItemStatus.OPEN, ItemStatus.OPEN)
    reply = project_reply("C1", ["U2"], digest, NOW, NOW.date(), PERIOD, NAMES)
    acknowledged = make_item(
        "blocker 1", kind=ItemKind.BLOCKER, id=1, status=ItemStatus.ACKNOWLEDGED, handled_by="U2"
    )
    later = NOW + timedelta(days=2)
    once = settled_in_place(reply.blocks, QueuedItem(acknowledged, 0), later, NAMES)
    resolved = acknowledged.model_copy(update={"status": ItemStatus.RESOLVED})
    twice = settled_in_place(once, QueuedItem(resolved, 0), NOW, NAMES)

    for blocks in (once, twice):
        assert block_kit_errors(blocks, MESSAGE_BLOCK_LIMIT) == []
    row = [b for b in twice if str(b.get("block_id", "")).startswith("blocker_actions_1")]
    assert [b["type"] for b in row] == ["context"]
    assert row[0]["elements"][0]["text"] == "*Resolved* by Bo Chen"
    other = [b for b in twice if b.get("block_id") == "blocker_actions_2"]
    labels = [e["text"]["text"] for e in other[0]["elements"]]
    assert labels == ["Acknowledge", "Resolve", "Move to feedback", "Reassign"]
    line = next(b for b in once if b.get("block_id") == "blocker_1")["text"]["text"]
    assert line.endswith("_Ann Lee · 37 days old · owned by Bo Chen_")  # filed 2 Nov
    assert "<@" not in json.dumps(twice)


def test_a_period_is_labelled_by_its_first_and_last_day() -> None:
    dash = "\N{EN DASH}"
    assert period_label(date(2026, 11, 30), date(2026, 12, 6)) == f"30 Nov {dash} 6 Dec"
    assert period_label(date(2026, 12, 1), date(2026, 12, 7)) == f"1 {dash} 7 Dec"
    assert period_label(date(2026, 12, 28), date(2027, 1, 3)) == f"28 Dec 2026 {dash} 3 Jan 2027"


def deadline(n: int) -> Deadline:
    return Deadline(
        id=n,
        team_channel_id="C1",
        task=f"task {n}",
        due_date=NOW.date() - timedelta(days=n),
        assignee_id="U3",
        created_by="U2",
        created_at=NOW,
        scheduled_at=NOW,
    )


def test_lists_cut_short_say_how_many_more_of_their_count() -> None:
    resolved = [
        QueuedItem(make_item(f"fixed {n}", kind=ItemKind.BLOCKER, id=n, handled_by="U2"), 0)
        for n in range(1, 6)
    ]
    digest = ProjectDigest(
        Counted([], 0), Counted(resolved, 7), [], [], [deadline(n) for n in range(1, 6)], 13
    )

    text = "\n".join(
        b["text"]["text"]
        for b in project_reply("C1", ["U2"], digest, NOW, NOW.date(), PERIOD, NAMES).blocks
        if b["type"] == "section"
    )

    assert f"*Blockers resolved {PERIOD}* (7)\n" in text
    assert "• *#5* fixed 5 · by Bo Chen\n…and 2 more.\n" in text  # 5 shown of 7
    assert text.endswith("• deadline *task 5* — Wed 2 Dec 2026 · Cy\n…and 8 more.")  # of 13


def test_a_digest_says_nothing_only_when_every_count_and_list_is_empty() -> None:
    empty = Counted([], 0)
    quiet_product = ProductDigest(FeedbackCounts({}, 0, 0), [], [], empty)
    quiet_project = ProjectDigest(empty, empty, [], [], [], 0)
    assert quiet_product.quiet and quiet_project.quiet

    declined = FeedbackCounts({ItemStatus.DECLINED: 1}, 0, 0)  # filed and closed in the period
    assert not ProductDigest(declined, [], [], empty).quiet
    assert not ProductDigest(quiet_product.counts, [], [], empty, market_risks=Risks([], 1)).quiet
    assert not ProjectDigest(empty, empty, [], [], [], 1).quiet  # an overdue deadline
    assert not ProjectDigest(empty, Counted([], 1), [], [], [], 0).quiet  # one resolved


def test_a_triage_in_the_thread_swaps_the_headings_for_recounted_ones() -> None:
    waiting = [QueuedItem(make_item(f"wish {n}", id=n), 0) for n in (1, 2)]
    counts = FeedbackCounts({ItemStatus.OPEN: 2}, 2, 0)
    reply = product_reply(
        "C1", ["U1"], ProductDigest(counts, [], waiting, Counted([], 0)), NOW, PERIOD, NAMES
    )
    planned = make_item("wish 1", id=1, status=ItemStatus.PLANNED, handled_by="U1")
    recounted = FeedbackCounts({ItemStatus.OPEN: 1, ItemStatus.PLANNED: 1}, 1, 0)

    blocks = settled_in_place(
        reply.blocks, QueuedItem(planned, 0), NOW, NAMES, product_headings(recounted, PERIOD)
    )

    texts = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert f"*Feedback filed {PERIOD}: 2* (1 open, 1 planned)" in texts
    assert "*Waiting for triage longest* (1 open)" in texts
    row = [b for b in blocks if str(b.get("block_id", "")).startswith("waiting_actions_1")]
    assert [b["elements"][0]["text"] for b in row] == ["*Planned* by Ann Lee"]
    assert len(blocks) == len(reply.blocks)  # its buttons became its status; nothing else moved
    unchanged = settled_in_place(blocks, QueuedItem(planned, 0), NOW, NAMES, project_headings(0))
    assert unchanged == blocks  # another reply's headings match no block here
