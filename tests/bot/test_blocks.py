"""Block Kit builders are pure: check them against Slack's limits without any server."""

from datetime import UTC, date, datetime

from bot.blocks.cards import item_card, reporter_update
from bot.blocks.common import plural
from bot.blocks.home import HomeData, home_view
from bot.blocks.lists import deadline_list
from sandbox.block_kit import MESSAGE_BLOCK_LIMIT, block_kit_errors
from storage.items import QueuedItem
from storage.models import Deadline, Item, ItemKind, ItemStatus, Level, Role, RoleAssignment

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def make_item(text: str = "idea", kind: ItemKind = ItemKind.FEEDBACK, **fields: object) -> Item:
    values: dict[str, object] = {
        "id": 7,
        "kind": kind,
        "team_channel_id": "C1",
        "text": text,
        "reporter_id": "U1",
        "created_at": NOW,
        "updated_at": NOW,
    }
    values.update(fields)
    return Item.model_validate(values)


def test_feedback_card_has_triage_buttons_with_the_item_id() -> None:
    card = item_card(make_item(), votes=3)
    actions = card.blocks[-1]
    assert [(e["text"]["text"], e["action_id"], e["value"]) for e in actions["elements"]] == [
        ("Plan", "item_plan", "7"),
        ("Decline", "item_decline", "7"),
        ("Duplicate", "item_duplicate", "7"),
        ("Needs info", "item_needs_info", "7"),
        ("Snooze", "item_snooze", "7"),
        ("Move to blockers", "item_to_blockers", "7"),
    ]
    assert "+3" in card.blocks[2]["elements"][0]["text"]
    assert card.text == ":bulb: Feedback from <@U1>: idea"
    assert block_kit_errors(card.blocks, MESSAGE_BLOCK_LIMIT) == []


def test_a_handled_card_shows_who_and_keeps_only_the_buttons_still_possible() -> None:
    acknowledged = make_item(kind=ItemKind.BLOCKER, status=ItemStatus.ACKNOWLEDGED, handled_by="U2")
    card = item_card(acknowledged)
    assert card.blocks[-2]["elements"][0]["text"] == "*Acknowledged* by <@U2>"
    assert [e["text"]["text"] for e in card.blocks[-1]["elements"]] == [
        "Resolve",
        "Move to feedback",
        "Reassign",
    ]
    resolved = item_card(
        make_item(kind=ItemKind.BLOCKER, status=ItemStatus.RESOLVED, handled_by="U2")
    )
    assert all(b["type"] != "actions" for b in resolved.blocks)


def test_huge_text_fits_in_the_section_and_the_fallback() -> None:
    item = make_item("<&>" * 13_000, permalink="https://x.slack.com/archives/C1/p1")
    card = item_card(item)
    section = card.blocks[1]["text"]["text"]
    assert len(section) <= 3000
    assert section.endswith("\n<https://x.slack.com/archives/C1/p1|Read the full message>")
    assert len(card.text) < 400
    assert block_kit_errors(card.blocks, MESSAGE_BLOCK_LIMIT) == []
    no_link = item_card(make_item("y" * 5000)).blocks[1]["text"]["text"]
    assert len(no_link) <= 3000 and no_link.endswith("3,000 characters here)_")


def test_reporter_update_quotes_every_line() -> None:
    item = make_item("line one\nline two", status=ItemStatus.DECLINED, handled_by="U9")
    assert reporter_update(item) == (
        "The feedback you raised in <#C1> was declined by <@U9>:\n>line one\n>line two"
    )


def test_the_reason_reaches_the_reporter_escaped_and_names_them_in_the_thread() -> None:
    item = make_item(
        "idea", status=ItemStatus.DECLINED, handled_by="U9", reason="Not now <!channel> & later"
    )
    assert reporter_update(item, in_thread=True) == (
        "<@U1> The feedback you raised in <#C1> was declined by <@U9>.\n"
        "*Reason:* Not now &lt;!channel&gt; &amp; later\n>idea"
    )


def test_a_card_offers_a_merge_into_the_item_it_looks_like() -> None:
    original = make_item("Export the audit log as CSV", id=3)
    card = item_card(
        make_item("CSV export of audit logs", similar_to=3), 0, QueuedItem(original, 5)
    )
    assert "Looks like *#3* (5 +1s): Export the audit log as CSV" in str(card.blocks)
    buttons = card.blocks[-1]["elements"]
    assert (buttons[0]["text"]["text"], buttons[0]["action_id"]) == ("Merge", "item_merge")
    handled = make_item("CSV export", status=ItemStatus.PLANNED, handled_by="U2", similar_to=3)
    assert "Looks like" not in str(item_card(handled, 0, QueuedItem(original, 5)).blocks)


def test_a_card_shows_details_from_a_modal() -> None:
    item = make_item(
        "Checkout fails for EU cards",
        title="EU checkout",
        customer="Acme GmbH",
        impact=Level.HIGH,
        tags=" billing eu ",
    )
    card = item_card(item)
    assert card.blocks[1]["text"]["text"].startswith("*EU checkout*\nCheckout fails")
    facts = card.blocks[2]["elements"][0]["text"]
    assert "customer: Acme GmbH" in facts and "impact: high" in facts and "#billing" in facts


def test_home_view_lists_roles() -> None:
    assignment = RoleAssignment(
        channel_id="C1", user_id="U1", role=Role.PROJECT, assigned_by="U1", assigned_at=NOW
    )
    view = home_view(HomeData("U1", [assignment], NOW))
    assert view["type"] == "home"
    assert "• project manager in <#C1>" in str(view["blocks"])


def test_long_deadline_lists_are_capped_with_a_count() -> None:
    deadlines = [
        Deadline(
            id=n,
            team_channel_id="C1",
            task=f"task {n}",
            due_date=date(2026, 12, 1),
            assignee_id="U1",
            created_by="U1",
            created_at=NOW,
            scheduled_at=NOW,
        )
        for n in range(45)
    ]
    text = deadline_list("C1", deadlines, date(2026, 12, 2))
    lines = text.splitlines()
    assert lines[0] == "Open deadlines in <#C1>:"
    assert lines[1] == "• `0` *task 0* — Tue 1 Dec 2026 · <@U1> · *overdue*"
    assert len(lines) == 42 and lines[-1] == "…and 5 more."


def test_counts_read_as_people_write_them() -> None:
    assert plural(1, "item") == "1 item"
    assert plural(80_000, "feedback item") == "80,000 feedback items"
