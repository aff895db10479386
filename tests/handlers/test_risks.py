"""Risks end to end through signed requests: `/risk` (the kind picked by keyword or by the filer,
a milestone named at the end), `/risk list`, the capture modal's Risk form and the **Flag as
risk** shortcut, the `risk.filed` webhook, and risks that waited for a role's new holder."""

import logging
from typing import Any

import pytest

from bot.parsing.risk import RISK_USAGE
from handlers.errors import SORRY
from handlers.listeners.commands import NOT_A_TEAM
from handlers.services import Services
from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient, state_values
from storage.models import Item, ItemKind, ItemStatus, Level
from tests.conftest import ALICE, BOB, CAROL, ERIN, TEAM
from tests.handlers.scenario import (
    buttons,
    cards,
    command,
    ephemerals,
    notes,
    rendered,
    set_up_team,
)
from tests.handlers.test_lists import click_more, last_reply, listed_ids, more_value, seed

MARKET, OPERATIONAL = ItemKind.MARKET_RISK, ItemKind.OPERATIONAL_RISK


def risks(services: Services) -> list[Item]:
    return [
        queued.item
        for kind in (MARKET, OPERATIONAL)
        for queued in services.triage.items.open_queue(TEAM, kind)
    ]


def card_of(fake: FakeSlack, user: str) -> str:
    [card] = cards(fake, user)
    return rendered(fake, card)


# /risk ------------------------------------------------------------------------------------


def test_a_risk_goes_to_the_role_its_first_keyword_names(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)

    market = command(slack, fake, "/risk", "The competitor cut pricing; our vendor may too", CAROL)

    assert market == (
        "Filed in #launch's product manager queue as a market risk (from the word *competitor*) "
        "and sent to @alice. You'll hear back when it's handled."
    )
    fake.wait_for(lambda: len(cards(fake, ALICE)) == 1)
    card = card_of(fake, ALICE)
    assert "Market risk* for the product manager of #launch" in card
    assert "likelihood medium \N{MULTIPLICATION SIGN} impact medium" in card
    assert "Kind picked from the word *competitor*: move it to the other manager" in card
    assert "High risk" not in card
    assert buttons(cards(fake, ALICE)[0]) == [
        "Mitigating",
        "Accept risk",
        "Close",
        "Move to the project manager",
        "Set owner",
    ]
    assert cards(fake, BOB) == []
    [risk] = risks(services)
    assert (risk.kind, risk.likelihood, risk.impact) == (MARKET, Level.MEDIUM, Level.MEDIUM)

    command(slack, fake, "/risk", "Nobody knows who signs off", CAROL)  # no keyword
    fake.wait_for(lambda: len(cards(fake, BOB)) == 1)
    assert "Kind picked by default (no keyword in the text)" in card_of(fake, BOB)


def test_the_filer_may_pick_the_kind(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)

    reply = command(slack, fake, "/risk", "operational Customers churn if support is slow", CAROL)

    assert reply.startswith("Filed in #launch's project manager queue as an operational risk and")
    fake.wait_for(lambda: len(cards(fake, BOB)) == 1)
    card = card_of(fake, BOB)
    assert "Operational risk* for the project manager" in card
    assert "Customers churn if support is slow" in card and "Kind picked" not in card
    assert cards(fake, ALICE) == []
    [risk] = risks(services)
    assert risk.text == "Customers churn if support is slow"


def test_a_risk_names_the_milestone_it_threatens(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/milestone", "add Public beta 2026-12-20", BOB)

    reply = command(slack, fake, "/risk", "The hosting vendor may slip #public BETA", CAROL)

    assert reply.endswith(" Linked to milestone *Public beta*.")  # medium: not at risk by itself
    fake.wait_for(lambda: len(cards(fake, BOB)) == 1)
    assert "threatens milestone *Public beta*" in card_of(fake, BOB)
    [risk] = risks(services)
    [beta] = services.planning.store.tracked(TEAM)
    assert risk.milestone_id == beta.milestone.id


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("", RISK_USAGE),
        ("help", RISK_USAGE),
        ("market", f"What is the market risk? {RISK_USAGE}"),
        ("list resolved", "`resolved` is not a risk filter"),
    ],
)
def test_help_and_bad_input_get_the_usage_and_file_nothing(
    slack: SignedClient, fake: FakeSlack, services: Services, text: str, reply: str
) -> None:
    set_up_team(slack, fake)
    assert fake.readable(reply) in command(slack, fake, "/risk", text, CAROL)
    assert risks(services) == [] and cards(fake, ALICE) == cards(fake, BOB) == []


@pytest.mark.parametrize(
    "text",
    ["list \x00", "market <!channel> " + "x" * 4000, "#" * 300, "operational ß\x00İ", "list ALL"],
)
def test_hostile_text_gets_a_reply_never_a_failure(
    slack: SignedClient, fake: FakeSlack, caplog: pytest.LogCaptureFixture, text: str
) -> None:
    set_up_team(slack, fake)
    with caplog.at_level(logging.ERROR):
        reply = command(slack, fake, "/risk", text, CAROL)
    assert not caplog.records, [r.getMessage() for r in caplog.records]
    assert SORRY not in reply and reply


def test_a_risk_in_a_dm_is_refused_and_a_replay_files_once(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    in_dm = slack.command("/risk", "Vendor slips", CAROL, fake.dm_channel(CAROL))
    assert in_dm.text == NOT_A_TEAM

    first = slack.command("/risk", "Vendor slips", CAROL, TEAM)
    again = slack.replay()

    assert first.text == again.text and first.text.startswith(f"Filed in <#{TEAM}>'s project")
    fake.wait_for(lambda: len(cards(fake, BOB)) == 1)
    assert len(risks(services)) == 1 and len(cards(fake, BOB)) == 1


# /risk list --------------------------------------------------------------------------------


def test_the_list_shows_both_kinds_each_with_its_own_more(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    market = seed(
        services,
        17,
        text="competitor move {n}",
        kind=MARKET,
        likelihood=Level.MEDIUM,
        impact=Level.HIGH,
    )
    seed(services, 1, text="hidden market", kind=MARKET, status=ItemStatus.CLOSED)
    [operational] = seed(services, 1, text="vendor slip", kind=OPERATIONAL)
    seed(services, 1, text="feedback, not a risk")
    before = len(ephemerals(fake, ERIN))

    assert slack.command("/risk", "list", ERIN, TEAM).status_code == 200

    fake.wait_for(lambda: len(ephemerals(fake, ERIN)) == before + 2)
    market_page, operational_page = ephemerals(fake, ERIN)[-2:]
    assert "17 open market risks in #launch's product manager queue" in market_page
    assert "high risk" in market_page and "hidden" not in market_page
    assert "1 open operational risk in #launch's project manager queue" in operational_page
    assert listed_ids(last_reply(fake, ERIN)) == [operational]
    assert "feedback" not in market_page + operational_page
    market_blocks = [s for s in fake.seen_by(ERIN) if s.kind == "ephemeral"][-2].blocks
    assert listed_ids(market_blocks) == market[:15]
    value = more_value(market_blocks)
    assert value is not None

    second = click_more(slack, fake, ERIN, value)

    assert "Showing 16 to 17." in second
    assert listed_ids(last_reply(fake, ERIN)) == market[15:]

    slack.command("/risk", "list closed", ERIN, TEAM)
    fake.wait_for(lambda: "No closed operational risks" in ephemerals(fake, ERIN)[-1])
    assert "1 closed market risk" in ephemerals(fake, ERIN)[-2]


# The capture modal -------------------------------------------------------------------------


def modal_of(fake: FakeSlack, user: str) -> dict[str, Any]:
    fake.wait_for(lambda: len(fake.open_views(user)) == 1)
    return fake.open_views(user)[-1]


def test_the_global_shortcut_files_a_high_risk_with_its_weight_and_milestone(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/milestone", "add Public beta 2026-12-20", BOB)
    slack.global_shortcut("new_item", CAROL)
    view = modal_of(fake, CAROL)
    typed = {"title": "Pricing pressure", "team": TEAM, "details": "Our vendor raises prices"}

    slack.view_click(CAROL, view, "capture_kind", "risk", values=state_values(view, typed))
    fake.wait_for(
        lambda: any(b.get("block_id") == "likelihood" for b in fake.open_views(CAROL)[-1]["blocks"])
    )
    view = fake.open_views(CAROL)[-1]
    assert view["title"]["text"] == "Risk"
    state = state_values(view, {**typed, "capture_kind": "risk"})
    [beta] = slack.block_suggestion(
        "capture_milestone", "milestone", "", CAROL, {**view, "state": {"values": state}}
    ).json()["options"]
    answers = {
        **typed,
        "capture_kind": "risk",
        "risk_kind": "pick",
        "likelihood": "high",
        "impact": "high",
        "capture_milestone": beta["value"],
    }
    response = slack.view_submission(view, CAROL, state_values(view, answers))

    assert response.status_code == 200 and fake.open_views(CAROL) == []
    fake.wait_for(lambda: len(cards(fake, ALICE)) == 1)  # "pricing", in the title, came first
    card = card_of(fake, ALICE)
    assert ":rotating_light: *High risk*" in card and "*Pricing pressure*" in card
    assert "Kind picked from the word *pricing*" in card
    assert "threatens milestone *Public beta*" in card
    fake.wait_for(lambda: any("which is now at risk" in s for s in ephemerals(fake, CAROL)))
    [risk] = risks(services)
    assert (risk.kind, risk.likelihood, risk.impact) == (MARKET, Level.HIGH, Level.HIGH)
    assert risk.milestone_id == int(beta["value"])


def test_flag_as_risk_files_the_message_as_the_kind_picked(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    quote, _ = slack.say(TEAM, ERIN, "Pricing: Globex wants a discount\nor they leave")

    slack.message_shortcut("flag_as_risk", CAROL, TEAM, quote)
    view = modal_of(fake, CAROL)
    fields = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert fields["kind"]["initial_option"]["value"] == "risk"
    assert fields["risk_kind"]["initial_option"]["value"] == "pick"
    assert fields["title"]["initial_value"] == "Pricing: Globex wants a discount"
    answers = {
        "capture_kind": "risk",
        "team": TEAM,
        "title": "Globex discount",
        "details": quote["text"],
        "risk_kind": "operational_risk",
        "likelihood": "low",
        "impact": "high",
    }
    slack.view_submission(view, CAROL, state_values(view, answers))

    fake.wait_for(lambda: len(cards(fake, BOB)) == 1)
    card = card_of(fake, BOB)
    assert "written by @erin" in card and "Kind picked" not in card
    assert "likelihood low \N{MULTIPLICATION SIGN} impact high" in card and "High risk" not in card
    [risk] = risks(services)
    assert (risk.kind, risk.source_ts) == (OPERATIONAL, quote["ts"])


def test_a_forged_kind_is_an_inline_error(slack: SignedClient, fake: FakeSlack) -> None:
    set_up_team(slack, fake)
    slack.global_shortcut("new_item", CAROL)
    view = modal_of(fake, CAROL)
    forged = state_values(view, {"team": TEAM, "title": "x"})
    forged["kind"]["capture_kind"]["selected_option"] = {"value": "market_risk"}

    response = slack.view_submission(view, CAROL, forged)

    assert response.json()["errors"] == {"kind": "Pick feedback, a blocker or a risk."}


# A role's new holder -----------------------------------------------------------------------


def test_risks_that_waited_reach_the_new_holder_as_cards(
    slack: SignedClient, fake: FakeSlack
) -> None:
    command(slack, fake, "/role", f"<@{ALICE}|alice> product", ALICE)
    waiting = command(slack, fake, "/risk", "Vendor may slip", CAROL)
    assert "nobody in #launch is the project manager yet" in waiting
    command(slack, fake, "/risk", "Hiring is slow", CAROL)
    command(slack, fake, "/blocker", "Staging is down", CAROL)

    reply = command(slack, fake, "/role", f"<@{BOB}|bob> project", ALICE)

    assert reply.endswith("I sent 3 waiting items to them.")
    fake.wait_for(lambda: len(cards(fake, BOB)) == 3)
    kinds = sorted(rendered(fake, c).split("*")[1] for c in cards(fake, BOB))
    assert kinds == [
        ":no_entry: Blocker",
        ":warning: Operational risk",
        ":warning: Operational risk",
    ]


def test_a_backlog_with_risks_is_one_message_naming_both(
    slack: SignedClient, fake: FakeSlack
) -> None:
    command(slack, fake, "/role", f"<@{BOB}|bob> project", BOB)
    for number in range(4):
        slack.command("/feedback", f"idea {number}", CAROL, TEAM)
    for number in range(3):
        slack.command("/risk", f"market risk number {number}", CAROL, TEAM)

    reply = command(slack, fake, "/role", f"<@{ALICE}|alice> product", BOB)

    assert reply.endswith("7 items waited for the role: I told them in one message.")
    fake.wait_for(lambda: any("waited" in n for n in notes(fake, ALICE)))
    assert cards(fake, ALICE) == []
    assert [n for n in notes(fake, ALICE) if "waited" in n] == [
        "4 feedback items and 3 market risks in #launch waited for a product manager and are "
        "yours now. Work through them in Rolecall's *Home* tab (oldest first), or with "
        "`/feedback list` and `/risk list`."
    ]
