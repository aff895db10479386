"""List pages and their "More" button, without a server: parsing, the button's value (made
here, or forged), and the blocks against Slack's limits."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.blocks.lists import LIST_PAGE, MORE_ACTION, ListPage, age, queue_page
from bot.lists import STALE_LIST, Place
from bot.parsing.team import (
    ExportItems,
    FileItem,
    ListItems,
    parse_item_command,
)
from bot.parsing.words import UsageError
from sandbox.block_kit import MESSAGE_BLOCK_LIMIT, block_kit_errors
from storage.items import QueuedItem
from storage.models import Item, ItemKind, ItemStatus

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
CURSOR = f"{NOW.isoformat()}|42"


def make_item(n: int, text: str = "idea", **fields: object) -> Item:
    values: dict[str, object] = {
        "id": n,
        "kind": ItemKind.FEEDBACK,
        "team_channel_id": "C1",
        "text": text,
        "reporter_id": "U1",
        "created_at": NOW - timedelta(days=n),
        "updated_at": NOW,
    }
    values.update(fields)
    return Item.model_validate(values)


# Parsing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("list", ListItems(ItemKind.FEEDBACK)),
        ("LIST open", ListItems(ItemKind.FEEDBACK, "open")),
        ("list planned", ListItems(ItemKind.FEEDBACK, "planned")),
        ("list needs_info", ListItems(ItemKind.FEEDBACK, "needs-info")),
        ("list all #Pricing", ListItems(ItemKind.FEEDBACK, "all", "pricing")),
        ("list sso  for   acme", ListItems(ItemKind.FEEDBACK, "open", None, "sso for acme")),
        ("list snoozed 100% #q4", ListItems(ItemKind.FEEDBACK, "snoozed", "q4", "100%")),
        ("list #q4 open", ListItems(ItemKind.FEEDBACK, "open", "q4", "open")),  # filter first
        ("export", ExportItems(ItemKind.FEEDBACK)),
        ("export declined #api", ExportItems(ItemKind.FEEDBACK, "declined", "api")),
        ("listing is slow", FileItem(ItemKind.FEEDBACK, "listing is slow")),
    ],
)
def test_feedback_list_and_export_commands(text: str, expected: object) -> None:
    assert parse_item_command(ItemKind.FEEDBACK, text) == expected


def test_blocker_filters_are_the_blockers_own() -> None:
    assert parse_item_command(ItemKind.BLOCKER, "list acknowledged") == ListItems(
        ItemKind.BLOCKER, "acknowledged"
    )
    assert parse_item_command(ItemKind.BLOCKER, "list").statuses == (  # type: ignore[union-attr]
        ItemStatus.OPEN,
        ItemStatus.ACKNOWLEDGED,
    )
    assert ListItems(ItemKind.FEEDBACK).statuses == (ItemStatus.OPEN, ItemStatus.NEEDS_INFO)
    with pytest.raises(UsageError, match="`planned` is not a blocker filter"):
        parse_item_command(ItemKind.BLOCKER, "list planned")
    with pytest.raises(UsageError, match="not a feedback filter"):
        parse_item_command(ItemKind.FEEDBACK, "export resolved")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("list #a #b", "One #tag at a time"),
        ("list #", "is not a tag"),
        ("list #!!", "is not a tag"),
        ("list " + "x" * 101, "at most 100 characters"),
    ],
)
def test_bad_list_filters_get_usage(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_item_command(ItemKind.FEEDBACK, text)


# The "More" button's value --------------------------------------------------------------


def test_a_place_survives_its_button_value() -> None:
    place = Place(ListItems(ItemKind.BLOCKER, "resolved", "db", "“quoted” | 100%_"), 15, CURSOR)
    value = place.encode()
    assert len(value) < 200
    assert Place.decode(value) == place
    longest = Place(ListItems(ItemKind.FEEDBACK, "needs-info", "t" * 30, "é" * 100), 10**8, CURSOR)
    assert len(longest.encode()) <= 2000
    assert Place.decode(longest.encode()) == longest


@pytest.mark.parametrize(
    "value",
    [
        None,
        7,
        "",
        "not json",
        "[" * 2000,  # deeper than the JSON parser's recursion
        "{}",
        json.dumps([2, "f", "open", "", "", 15, CURSOR]),  # another version
        json.dumps([1, "x", "open", "", "", 15, CURSOR]),
        json.dumps([1, "b", "planned", "", "", 15, CURSOR]),  # a feedback filter on blockers
        json.dumps([1, "f", "open", "Bad Tag!", "", 15, CURSOR]),
        json.dumps([1, "f", "open", "", "w" * 101, 15, CURSOR]),
        json.dumps([1, "f", "open", "", "", True, CURSOR]),
        json.dumps([1, "f", "open", "", "", -1, CURSOR]),
        json.dumps([1, "f", "open", "", "", 1.5, CURSOR]),
        json.dumps([1, "f", "open", "", "", 15, "1 OR 1=1"]),
        json.dumps([1, "f", "open", "", "", 15, f"{NOW.isoformat()}|{'9' * 40}"]),
        json.dumps([1, "f", "open", "", "", 15, CURSOR, "extra"]),
        json.dumps([1, "f", "open", "", "", 15, CURSOR]) + " " * 2000,
    ],
)
def test_a_forged_button_value_is_a_polite_usage_error(value: object) -> None:
    with pytest.raises(UsageError) as refused:
        Place.decode(value)
    assert str(refused.value) == STALE_LIST


# The page ---------------------------------------------------------------------------------


def page(total: int, **fields: object) -> ListPage:
    values: dict[str, object] = {
        "channel_id": "C1",
        "kind": ItemKind.FEEDBACK,
        "filter": "open",
        "tag": None,
        "words": None,
        "newest_first": False,
        "total": total,
    }
    values.update(fields)
    return ListPage(**values)  # type: ignore[arg-type]


def test_a_full_page_stays_within_slacks_limits_and_offers_more() -> None:
    entries = [
        QueuedItem(make_item(n, "<!channel> " + "&lt;x&gt; " * 500, permalink=f"https://s/{n}"), 3)
        for n in range(LIST_PAGE)
    ]
    message = queue_page(page(500, more="v" * 2000), entries, NOW)
    assert len(message.blocks) <= MESSAGE_BLOCK_LIMIT
    assert block_kit_errors(message.blocks, MESSAGE_BLOCK_LIMIT) == []
    more = message.blocks[-1]
    assert more["type"] == "actions"
    assert more["elements"][0]["action_id"] == MORE_ACTION
    assert message.blocks[0]["text"]["text"] == "Open feedback"
    assert message.text == (
        "500 open feedback items in <#C1>'s product manager queue, waiting longest first. "
        "Showing 1 to 15."
    )
    assert "<!channel>" not in json.dumps(message.blocks)


def test_a_line_shows_id_title_reporter_votes_status_age_source_and_tags() -> None:
    item = make_item(
        9,
        "the text",
        title="SSO for *Acme*",
        status=ItemStatus.NEEDS_INFO,
        tags=" enterprise sso ",
        permalink="https://fake.slack.test/archives/C1/p1",
    )
    message = queue_page(page(31, start=15, newest_first=True), [QueuedItem(item, 4)], NOW)
    line, facts = message.blocks[2], message.blocks[3]
    assert line["text"]["text"] == "*#9* SSO for *Acme*"
    assert facts["elements"][0]["text"] == (
        "<@U1> · +4 · needs info · 9 days ago · "
        "<https://fake.slack.test/archives/C1/p1|source> · #enterprise #sso"
    )
    assert message.text.endswith("newest first. Showing 16.")
    assert all(b["type"] != "actions" for b in message.blocks)  # no More: the last page


def test_empty_pages_say_what_was_looked_for() -> None:
    empty = queue_page(page(0, filter="planned", tag="q4", words="<!here> sso"), [], NOW)
    assert empty.text == (
        "No planned feedback items in <#C1>'s product manager queue tagged #q4 matching "
        "“&lt;!here&gt; sso”."
    )
    blockers = queue_page(page(0, kind=ItemKind.BLOCKER, filter="all"), [], NOW)
    assert blockers.blocks[0]["text"]["text"] == "All blockers"
    assert blockers.text == "No blockers in <#C1>'s project manager queue."
    gone = queue_page(page(20, start=15, more="x"), [], NOW)
    assert gone.text.startswith("No more open feedback items")
    assert all(b["type"] != "actions" for b in gone.blocks)


def test_ages_read_in_days_then_weeks() -> None:
    assert age(NOW - timedelta(hours=23), NOW) == "today"
    assert age(NOW - timedelta(days=1), NOW) == "1 day ago"
    assert age(NOW - timedelta(days=13), NOW) == "13 days ago"
    assert age(NOW - timedelta(days=30), NOW) == "4 weeks ago"
