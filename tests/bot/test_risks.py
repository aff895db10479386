"""Risks without a server: the keyword rule, the high-risk rule, `/risk` parsing, and the Block
Kit of risk cards, lists and modals."""

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.blocks.cards import filed_confirmation, item_card, reporter_update
from bot.blocks.lists import ListPage, queue_page
from bot.blocks.modals import RISK, capture_form, capture_modal, triage_modal
from bot.parsing.risk import FileRisk, ListRisks, parse_risk_command
from bot.parsing.words import UsageError
from bot.risks import (
    DEFAULT_KIND,
    MARKET_WORDS,
    OPERATIONAL_WORDS,
    KindGuess,
    guess_kind,
    how_picked,
    is_high,
)
from bot.status import TRANSITIONS, available
from sandbox.block_kit import MESSAGE_BLOCK_LIMIT, block_kit_errors
from storage.items import QueuedItem
from storage.models import RISK_KINDS, Item, ItemKind, ItemStatus, Level

MARKET, OPERATIONAL = ItemKind.MARKET_RISK, ItemKind.OPERATIONAL_RISK
LOW, MEDIUM, HIGH = Level.LOW, Level.MEDIUM, Level.HIGH
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def make_risk(text: str, kind: ItemKind | None = None, **fields: Any) -> Item:
    values: dict[str, Any] = {
        "id": 12,
        "kind": kind or guess_kind(text).kind,
        "team_channel_id": "C1",
        "text": text,
        "reporter_id": "U1",
        "likelihood": MEDIUM,
        "impact": MEDIUM,
        "created_at": NOW,
        "updated_at": NOW,
    }
    values.update(fields)
    return Item.model_validate(values)


# The keyword rule -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "keyword"),
    [
        ("A competitor cut their pricing by 30%", MARKET, "competitor"),
        ("Pricing page confuses enterprise buyers", MARKET, "pricing"),
        ("CHURN is up in the SMB segment", MARKET, "churn"),
        ("Two customers may not renew", MARKET, "customers"),
        ("Demand for the mobile app is soft", MARKET, "demand"),
        ("The Q1 deals depend on SSO", MARKET, "deals"),
        ("Our only vendor for SMS may raise prices", OPERATIONAL, "vendor"),
        ("Hiring for the backend role is slow", OPERATIONAL, "hiring"),
        ("Half the staff is on leave in December", OPERATIONAL, "staff"),
        ("Cloud outage risk during the migration", OPERATIONAL, "cloud"),
        ("The launch date depends on legal", OPERATIONAL, "date"),
        ("Two people are sick this week", OPERATIONAL, "people"),
        ("The payments dependency has no owner", OPERATIONAL, "dependency"),
        ("Server capacity for Black Friday", OPERATIONAL, "server"),
        # The first keyword by position decides, whichever list it is on.
        ("Delays at the supplier could lose us the Acme deal", OPERATIONAL, "delays"),
        ("Sales may miss the quarter if the vendor slips", MARKET, "sales"),
        # Whole words only: no keyword inside another word.
        ("Priceless update to the datastore", DEFAULT_KIND, None),
        ("Marketing copy isn't ready", DEFAULT_KIND, None),
        # No keyword at all: operational, the project manager's.
        ("Something feels off about the plan", OPERATIONAL, None),
        ("", OPERATIONAL, None),
        # Slack markup decides nothing: links, people and channels are skipped.
        ("See <https://pricing.example.com|the page> and <@U1|people>", OPERATIONAL, None),
        ("Ask <#C1|sales> about the churn numbers", MARKET, "churn"),
        # Punctuation around a word does not hide it.
        ("(pricing), then: vendors!", MARKET, "pricing"),
        ("customer's renewal", MARKET, "customer"),
    ],
)
def test_the_first_keyword_picks_the_kind(text: str, kind: ItemKind, keyword: str | None) -> None:
    assert guess_kind(text) == KindGuess(kind, keyword)


def test_the_keyword_lists_do_not_overlap_and_each_word_picks_its_list() -> None:
    assert not set(MARKET_WORDS) & set(OPERATIONAL_WORDS)
    for word in MARKET_WORDS:
        assert guess_kind(f"about the {word.upper()} here") == KindGuess(MARKET, word)
    for word in OPERATIONAL_WORDS:
        assert guess_kind(f"about the {word.title()} here") == KindGuess(OPERATIONAL, word)


def test_the_card_explains_the_pick_only_when_the_rule_made_it() -> None:
    guessed = make_risk("Competitors lower their prices")
    assert how_picked(guessed) == KindGuess(MARKET, "competitors")
    by_default = make_risk("Something feels off")
    assert how_picked(by_default) == KindGuess(OPERATIONAL, None)
    # The filer picked the other kind: nothing to explain.
    assert how_picked(make_risk("Competitors lower their prices", OPERATIONAL)) is None
    # Moved since: the rule's pick is history.
    moved = make_risk("Vendor delays", MARKET, moved_from=OPERATIONAL)
    assert how_picked(moved) is None
    # A modal's title is read before its text.
    titled = make_risk("Our vendor is late", title="Pricing pressure", kind=MARKET)
    assert how_picked(titled) == KindGuess(MARKET, "pricing")
    assert how_picked(make_risk("x", ItemKind.BLOCKER)) is None


@pytest.mark.parametrize(
    ("likelihood", "impact", "high"),
    [
        (LOW, LOW, False),
        (MEDIUM, LOW, False),
        (HIGH, LOW, False),
        (LOW, MEDIUM, False),
        (MEDIUM, MEDIUM, False),
        (HIGH, MEDIUM, False),
        (LOW, HIGH, False),
        (MEDIUM, HIGH, True),
        (HIGH, HIGH, True),
        (None, HIGH, False),
    ],
)
def test_a_risk_is_high_with_high_impact_and_at_least_medium_likelihood(
    likelihood: Level | None, impact: Level, high: bool
) -> None:
    assert is_high(make_risk("x", likelihood=likelihood, impact=impact)) is high


# /risk ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Competitor launches a free tier", FileRisk(MARKET, "Competitor launches a free tier")),
        (
            "The vendor is late #Public beta",
            FileRisk(OPERATIONAL, "The vendor is late #Public beta"),
        ),
        ("market The Berlin office may close", FileRisk(MARKET, "The Berlin office may close")),
        (
            "Operational  churn on the support team",
            FileRisk(OPERATIONAL, "churn on the support team"),
        ),
        ("  nothing to go on  ", FileRisk(OPERATIONAL, "nothing to go on")),
        ("list", ListRisks("open")),
        ("LIST Accepted", ListRisks("accepted")),
        ("list all", ListRisks("all")),
        ("marketing push slips", FileRisk(OPERATIONAL, "marketing push slips")),
    ],
)
def test_risk_commands(text: str, expected: object) -> None:
    assert parse_risk_command(text) == expected


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("", "Usage: `/risk [market|operational] &lt;text&gt;"),
        ("help", "Usage: `/risk"),
        ("market", "What is the market risk?"),
        ("operational   ", "What is the operational risk?"),
        ("list planned", "`planned` is not a risk filter"),
        ("list open closed", "`open closed` is not a risk filter"),
        ("list <!channel>", "`&lt;!channel&gt;` is not a risk filter"),
    ],
)
def test_bad_risk_commands_get_the_usage(text: str, reply: str) -> None:
    with pytest.raises(UsageError) as usage:
        parse_risk_command(text)
    assert reply in str(usage.value)
    assert "<!" not in str(usage.value)


@given(st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]) | st.sampled_from("<>&#")))
def test_any_text_is_a_command_or_the_usage(text: str) -> None:
    try:
        parsed = parse_risk_command(text)
    except UsageError as usage:
        assert "<!" not in str(usage) and "<@" not in str(usage)
        return
    if isinstance(parsed, FileRisk):
        assert parsed.kind in RISK_KINDS and parsed.text and parsed.text in text
    else:
        assert parsed.filter in ("open", "mitigating", "accepted", "closed", "all")


# Cards, lists, modals ----------------------------------------------------------------------


def buttons(card_blocks: list[dict[str, Any]]) -> list[str]:
    return [e["text"]["text"] for b in card_blocks if b["type"] == "actions" for e in b["elements"]]


def test_an_open_risk_card_shows_its_weight_owner_milestone_and_why_it_is_theirs() -> None:
    risk = make_risk(
        "A competitor undercuts our pricing <!channel>",
        likelihood=HIGH,
        impact=HIGH,
        assignee_id="U7",
    )
    card = item_card(risk, milestone="Public beta <!here>")
    text = str(card.blocks)
    assert card.blocks[0]["text"]["text"] == (
        "*:chart_with_downwards_trend: Market risk* for the product manager of <#C1>"
        " · :rotating_light: *High risk*"
    )
    facts = card.blocks[2]["elements"][0]["text"]
    assert "likelihood high \N{MULTIPLICATION SIGN} impact high" in facts
    assert "owner: <@U7>" in facts
    assert "item_status" not in [b["block_id"] for b in card.blocks]  # open: no status line
    assert "threatens milestone *Public beta &lt;!here&gt;*" in facts
    assert "Kind picked from the word *competitor*" in text
    assert "<!channel>" not in text and "<!here>" not in text
    assert buttons(card.blocks) == [
        "Mitigating",
        "Accept risk",
        "Close",
        "Move to the project manager",
        "Set owner",
    ]
    assert block_kit_errors(card.blocks, MESSAGE_BLOCK_LIMIT) == []


def test_a_risk_card_follows_its_status() -> None:
    mitigating = make_risk("Vendor slips", status=ItemStatus.MITIGATING, handled_by="U2")
    card = item_card(mitigating)
    assert "*Mitigating* by <@U2>" in str(card.blocks)
    assert "High risk" not in str(card.blocks)
    assert "likelihood medium \N{MULTIPLICATION SIGN} impact medium" in str(card.blocks)
    assert buttons(card.blocks) == [
        "Accept risk",
        "Close",
        "Move to the product manager",
        "Set owner",
    ]
    closed = make_risk("Vendor slips", status=ItemStatus.CLOSED, handled_by="U2", reason="Signed")
    assert buttons(item_card(closed).blocks) == ["Reopen"]
    assert "Kind picked" not in str(item_card(closed).blocks)  # closed: nothing to move
    moved = make_risk("Vendor slips", MARKET, moved_from=OPERATIONAL, handled_by="U2")
    moved_card = str(item_card(moved).blocks)
    assert "*Moved to the market risk queue* by <@U2>" in moved_card
    assert "Kind picked" not in moved_card
    filer_picked = make_risk("Vendor slips", MARKET)
    assert "Kind picked" not in str(item_card(filer_picked).blocks)
    by_default = str(item_card(make_risk("Something feels off")).blocks)
    assert "Kind picked by default (no keyword in the text)" in by_default


def test_a_huge_risk_still_fits() -> None:
    risk = make_risk("pricing " + "<&>" * 13_000, title="t" * 150, assignee_id="U7")
    card = item_card(risk, milestone="m" * 200)
    assert block_kit_errors(card.blocks, MESSAGE_BLOCK_LIMIT) == []


@pytest.mark.parametrize("kind", RISK_KINDS)
def test_each_risk_kind_has_the_same_buttons_for_its_own_role(kind: ItemKind) -> None:
    rows = [t for t in TRANSITIONS.values() if t.kind is kind]
    assert [t.label for t in rows][:4] == ["Mitigating", "Accept risk", "Close", "Reopen"]
    assert all(t.role is kind.owner_role for t in rows)
    [move] = [t for t in rows if t.moves_to is not None]
    assert move.moves_to is not kind and move.moves_to in RISK_KINDS
    assert all(len(t.action_id) <= 32 for t in rows)  # `Item.last_action` keeps them
    assert available(make_risk("x", kind, status=ItemStatus.ACCEPTED)) == [
        t for t in rows if t.label == "Reopen"
    ]


def test_what_the_filer_reads() -> None:
    risk = make_risk("Competitor pricing", handled_by="U2", reason="Price match approved")
    risk.status = ItemStatus.ACCEPTED
    assert reporter_update(risk).startswith(
        "The market risk you raised in <#C1> was accepted by <@U2>.\n*Note:* Price match"
    )
    risk.status, risk.reason = ItemStatus.MITIGATING, None
    assert reporter_update(risk) == (
        "<@U2> is mitigating the market risk you raised in <#C1>:\n>Competitor pricing"
    )
    moved = make_risk("Vendor", MARKET, moved_from=OPERATIONAL, handled_by="U3")
    assert reporter_update(moved).startswith(
        "The operational risk you raised in <#C1> was moved to the market risk queue by <@U3>: "
        "the product manager has it now"
    )
    confirmation = filed_confirmation(make_risk("Competitor pricing"), ["U2"], None)
    assert confirmation == (
        "Filed in <#C1>'s product manager queue as a market risk (from the word *competitor*) "
        "and sent to <@U2>. You'll hear back when it's handled."
    )
    picked = filed_confirmation(make_risk("Competitor pricing", OPERATIONAL), [], None)
    assert picked.startswith("Filed in <#C1>'s project manager queue as an operational risk, but")


def test_a_risk_list_names_its_kind_and_marks_high_risks() -> None:
    high = make_risk("Competitor pricing", impact=HIGH)
    page = ListPage("C1", MARKET, "open", None, None, newest_first=False, total=1)
    listing = queue_page(page, [QueuedItem(high, 0)], NOW)
    assert listing.blocks[0]["text"]["text"] == "Open market risks"
    assert listing.text.startswith("1 open market risk in <#C1>'s product manager queue")
    assert ":rotating_light: high risk" in str(listing.blocks)
    empty = queue_page(ListPage("C1", OPERATIONAL, "closed", None, None, True, 0), [], NOW)
    assert empty.text == "No closed operational risks in <#C1>'s project manager queue."


def inputs(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}


def test_the_capture_modal_has_a_risk_form() -> None:
    assert capture_form("risk") == RISK
    assert capture_form("blocker") is ItemKind.BLOCKER
    assert capture_form("market_risk") is None and capture_form(None) is None
    chooser = capture_modal(None)
    assert chooser["title"]["text"] == "Feedback, blocker, risk"
    kinds = [o["value"] for o in inputs(chooser)["kind"]["options"]]
    assert kinds == ["feedback", "blocker", "risk"]

    form = capture_modal(RISK, channel_id="C1", title="Vendor")
    fields = inputs(form)
    assert form["title"]["text"] == "Risk"
    assert fields["kind"]["initial_option"]["value"] == "risk"
    assert [o["value"] for o in fields["risk_kind"]["options"]] == [
        "pick",
        "market_risk",
        "operational_risk",
    ]
    assert fields["risk_kind"]["initial_option"]["value"] == "pick"
    assert fields["likelihood"]["initial_option"]["value"] == "medium"
    assert fields["impact"]["initial_option"]["value"] == "medium"
    assert fields["milestone"]["type"] == "external_select"
    assert block_kit_errors(form["blocks"], 100) == []


def test_risk_triage_modals_ask_for_a_note_or_an_owner() -> None:
    risk = make_risk("Vendor slips", assignee_id="U7")
    accept = triage_modal(risk, TRANSITIONS["risk_accept_operational"], [], NOW.date())
    assert accept["title"]["text"] == "Accept risk" and accept["submit"]["text"] == "Accept risk"
    assert inputs(accept)["reason"]["type"] == "plain_text_input"
    assert next(b for b in accept["blocks"] if b["type"] == "input")["optional"] is True
    owner = triage_modal(risk, TRANSITIONS["risk_owner_operational"], [], NOW.date())
    assert owner["title"]["text"] == "Set owner"
    assert inputs(owner)["owner"] == {
        "type": "users_select",
        "action_id": "owner",
        "initial_user": "U7",
    }
