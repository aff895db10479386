"""Card buttons: only the owning role acts, every card updates, the reporter hears back."""

import logging
from datetime import timedelta
from typing import Any

import httpx
import pytest

from bot.tick import Ticker
from handlers.services import Services
from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient, state_values
from tests.conftest import ALICE, BOB, CAROL, DAVE, ERIN, TEAM, FixedClock
from tests.handlers.scenario import (
    add_milestone,
    buttons,
    cards,
    command,
    ephemerals,
    item_id,
    notes,
    plan,
    rendered,
    set_up_team,
)

PLANNED = "*Planned* by @alice for *Public beta* (due Mon 14 Dec 2026)"


def file_feedback(
    slack: SignedClient, fake: FakeSlack, text: str = "SSO for Acme"
) -> dict[str, Any]:
    command(slack, fake, "/feedback", text, CAROL)
    fake.wait_for(lambda: len(cards(fake, ALICE)) >= 1)
    return cards(fake, ALICE)[-1]


def click(
    slack: SignedClient, fake: FakeSlack, user: str, owner: str, card: dict[str, Any], action: str
) -> httpx.Response:
    return slack.click(user, fake.dm_channel(owner), card["ts"], action, item_id(card))


def test_plan_updates_the_card_and_tells_the_reporter(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    card = file_feedback(slack, fake)
    beta = add_milestone(slack, fake, services)

    response = plan(slack, fake, ALICE, fake.dm_channel(ALICE), card["ts"], item_id(card), beta)

    assert response.status_code == 200
    fake.wait_for(lambda: len(notes(fake, CAROL)) == 1)
    update = fake.calls_to("chat.update")[0]
    assert update["channel"] == fake.dm_channel(ALICE) and update["ts"] == card["ts"]
    updated = cards(fake, ALICE)[0]
    assert buttons(updated) == []
    assert PLANNED in rendered(fake, updated)
    assert notes(fake, CAROL) == [
        "The feedback you raised in #launch was planned by @alice for *Public beta* "
        "(due Mon 14 Dec 2026):\n>SSO for Acme"
    ]


def test_people_without_the_owning_role_are_refused(slack: SignedClient, fake: FakeSlack) -> None:
    set_up_team(slack, fake)
    card = file_feedback(slack, fake)

    for outsider in (ERIN, BOB, DAVE):  # nobody, the *project* manager, a workspace admin
        click(slack, fake, outsider, ALICE, card, "item_decline")
        fake.wait_for(lambda u=outsider: len(ephemerals(fake, u)) >= 1)  # type: ignore[misc]
        assert ephemerals(fake, outsider)[-1] == (
            "Sorry, only the product manager of #launch can decline this."
        )

    assert fake.calls_to("chat.update") == []
    assert notes(fake, CAROL) == []
    assert "1 open feedback item in #launch" in command(slack, fake, "/feedback", "list", ALICE)


def test_blocker_acknowledge_then_resolve(slack: SignedClient, fake: FakeSlack) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/blocker", "the release branch won't build", CAROL)
    fake.wait_for(lambda: len(cards(fake, BOB)) == 1)
    card = cards(fake, BOB)[0]

    click(slack, fake, BOB, BOB, card, "item_acknowledge")
    fake.wait_for(lambda: len(notes(fake, CAROL)) == 1)
    assert buttons(cards(fake, BOB)[0]) == ["Resolve", "Move to feedback", "Reassign"]
    assert "*Acknowledged* by @bob" in rendered(fake, cards(fake, BOB)[0])

    click(slack, fake, BOB, BOB, card, "item_resolve")  # asks for an optional note
    fake.wait_for(lambda: len(fake.open_views(BOB)) == 1)
    view = fake.open_views(BOB)[0]
    slack.view_submission(view, BOB, state_values(view, {"reason": "Rebased on main"}))
    fake.wait_for(lambda: len(notes(fake, CAROL)) == 2)
    assert buttons(cards(fake, BOB)[0]) == []
    assert notes(fake, CAROL)[1].startswith(
        "The blocker you raised in #launch was resolved by @bob.\n*Note:* Rebased on main"
    )
    assert "No open blockers" in command(slack, fake, "/blocker", "list", BOB)


def test_every_holders_card_updates_and_a_second_click_is_told_it_is_done(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/role", f"<@{ERIN}> product", ALICE)
    command(slack, fake, "/feedback", "offline mode", CAROL)
    fake.wait_for(lambda: len(cards(fake, ALICE)) == 1 and len(cards(fake, ERIN)) == 1)
    beta = add_milestone(slack, fake, services)

    erins_card = dict(cards(fake, ERIN)[0])  # as Erin's client still shows it

    alices_card = cards(fake, ALICE)[0]
    plan(slack, fake, ALICE, fake.dm_channel(ALICE), alices_card["ts"], item_id(alices_card), beta)
    fake.wait_for(lambda: len(fake.calls_to("chat.update")) == 2)
    click(slack, fake, ERIN, ERIN, erins_card, "item_decline")
    fake.wait_for(lambda: len(ephemerals(fake, ERIN)) == 1)

    assert ephemerals(fake, ERIN) == ["Already planned by @alice."]
    assert PLANNED in rendered(fake, cards(fake, ERIN)[0])
    assert len(notes(fake, CAROL)) == 1


def test_the_reporter_is_not_told_about_their_own_triage(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/feedback", "my own idea", ALICE)
    fake.wait_for(lambda: len(cards(fake, ALICE)) == 1)
    beta = add_milestone(slack, fake, services)
    card = cards(fake, ALICE)[0]
    plan(slack, fake, ALICE, fake.dm_channel(ALICE), card["ts"], item_id(card), beta)
    fake.wait_for(lambda: len(fake.calls_to("chat.update")) == 1)
    assert PLANNED in rendered(fake, cards(fake, ALICE)[0])
    assert not any("you raised" in n for n in notes(fake, ALICE))


def test_a_card_in_a_queue_channel_refuses_channel_members_without_the_role(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    fake.channels["CQUEUE"]["members"].add(CAROL)
    command(slack, fake, "/rolecall", "queue product <#CQUEUE>", ALICE)
    command(slack, fake, "/feedback", "webhooks", CAROL)
    fake.wait_for(lambda: len(fake.messages["CQUEUE"]) == 1)
    card = fake.messages["CQUEUE"][0]

    slack.click(CAROL, "CQUEUE", card["ts"], "item_plan", item_id(card))
    fake.wait_for(lambda: len(ephemerals(fake, CAROL)) == 2)
    assert ephemerals(fake, CAROL)[-1].startswith("Sorry, only the product manager")
    assert fake.open_views(CAROL) == []  # no modal for her
    beta = add_milestone(slack, fake, services)
    plan(slack, fake, ALICE, "CQUEUE", card["ts"], item_id(card), beta)
    fake.wait_for(lambda: len(notes(fake, CAROL)) == 1)
    assert PLANNED in rendered(fake, fake.messages["CQUEUE"][0])
    assert TEAM in str(fake.calls_to("chat.postMessage")[-1]["text"])


def test_a_reporter_notice_slack_refused_is_posted_by_the_next_run_once(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock, services: Services
) -> None:
    set_up_team(slack, fake)
    card = file_feedback(slack, fake)
    beta = add_milestone(slack, fake, services)
    fake.fail_next("chat.postMessage", "internal_error")  # Slack answers; nothing was posted

    plan(slack, fake, ALICE, fake.dm_channel(ALICE), card["ts"], item_id(card), beta)
    assert notes(fake, CAROL) == []
    clock.now += timedelta(minutes=1)
    ticker.tick(clock.now)
    ticker.tick(clock.now + timedelta(minutes=5))

    assert notes(fake, CAROL) == [
        "The feedback you raised in #launch was planned by @alice for *Public beta* "
        "(due Mon 14 Dec 2026):\n>SSO for Acme"
    ]


def test_a_digest_row_click_on_a_message_that_is_not_our_digest_rewrites_nothing_else(
    slack: SignedClient, fake: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    """Which message to rewrite comes from our records, not from the click's payload."""
    set_up_team(slack, fake)
    card = file_feedback(slack, fake)
    dm = fake.dm_channel(ALICE)

    with caplog.at_level(logging.WARNING):
        slack.click(
            ALICE, dm, card["ts"], "item_to_blockers", item_id(card), block_id="waiting_actions_1"
        )

    [refresh] = fake.calls_to("chat.update")  # the card's own refresh, not a digest rewrite
    assert refresh["ts"] == card["ts"] and refresh["blocks"][-1]["block_id"] == "item_status"
    assert "not a digest reply of this item's team" in caplog.text
