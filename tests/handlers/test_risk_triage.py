"""The risk rows of the triage table, each through a signed click and, when it asks something, a
submitted modal: which statuses it applies to, which role may press it, what it asks, the
state on every copy of the card, and what the filer read."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from bot.status import TRANSITIONS, Ask, Hears, Transition
from handlers.services import Services
from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient, state_values
from storage.models import Item, ItemKind, ItemStatus
from tests.conftest import ALICE, BOB, CAROL, ERIN, FixedClock
from tests.handlers.scenario import buttons, cards, command, item_id, notes, rendered, set_up_team

MARKET, OPERATIONAL = ItemKind.MARKET_RISK, ItemKind.OPERATIONAL_RISK
OWNER = {MARKET: ALICE, OPERATIONAL: BOB}
OTHER_ROLE = {MARKET: BOB, OPERATIONAL: ALICE}
TEXT = {
    MARKET: "A competitor may undercut our pricing in Q1",
    OPERATIONAL: "Our only SMS vendor may shut down",
}
NOTE = "Signed a second vendor, <!channel>"
RISK_ROWS = [t for t in TRANSITIONS.values() if t.kind.is_risk]


def file_risk(slack: SignedClient, fake: FakeSlack, kind: ItemKind) -> dict[str, Any]:
    """Carol files the risk with `/risk` (the keyword picks its kind); its owner's card."""
    owner = OWNER[kind]
    before = len(cards(fake, owner))
    command(slack, fake, "/risk", TEXT[kind], CAROL)
    fake.wait_for(lambda: len(cards(fake, owner)) > before)
    return {**cards(fake, owner)[-1], "channel": fake.dm_channel(owner)}


def item_of(services: Services, card: dict[str, Any]) -> Item:
    found = services.triage.items.get(int(item_id(card)))
    assert found is not None
    return found


def card_now(fake: FakeSlack, card: dict[str, Any]) -> dict[str, Any]:
    return {**(fake.find(card["channel"], card["ts"]) or card), "channel": card["channel"]}


def press(
    slack: SignedClient,
    fake: FakeSlack,
    user: str,
    card: dict[str, Any],
    action: str,
    answers: dict[str, str] | None = None,
) -> None:
    before = len(fake.open_views(user))
    assert slack.click(user, card["channel"], card["ts"], action, item_id(card)).status_code == 200
    if answers is None:
        return
    fake.wait_for(lambda: len(fake.open_views(user)) > before)
    view = fake.open_views(user)[-1]
    submitted = slack.view_submission(view, user, state_values(view, answers))
    assert submitted.status_code == 200
    assert submitted.content in (b"", b"{}"), submitted.text


@pytest.mark.parametrize("transition", RISK_ROWS, ids=lambda t: t.action_id)
def test_each_risk_row_of_the_triage_table(
    transition: Transition,
    slack: SignedClient,
    fake: FakeSlack,
    services: Services,
    clock: FixedClock,
) -> None:
    set_up_team(slack, fake)
    owner = OWNER[transition.kind]
    card = file_risk(slack, fake, transition.kind)
    item = item_of(services, card)
    assert item.id is not None and item.kind is transition.kind
    start = transition.allowed_from[0]
    if start is not ItemStatus.OPEN:  # a row that starts elsewhere (an accepted risk)
        services.triage.items.transition(item.id, [ItemStatus.OPEN], start, owner, clock())
        services.triage.cards.refresh(item_of(services, card))
        card = card_now(fake, card)
    assert transition.label in buttons(card)

    # Neither the filer nor the other manager may press it, and nothing changes.
    for outsider in (CAROL, OTHER_ROLE[transition.kind]):
        slack.click(outsider, card["channel"], card["ts"], transition.action_id, item_id(card))
        fake.wait_for(refused(fake, outsider))
    assert item_of(services, card).status is start
    assert fake.open_views(CAROL) == []

    heard_before = len(notes(fake, CAROL))
    answers = {Ask.NOTE: {"reason": NOTE}, Ask.OWNER: {"owner": ERIN}}.get(transition.ask)
    before = item_of(services, card)
    clock.now += timedelta(minutes=5)
    press(slack, fake, owner, card, transition.action_id, answers)
    fake.wait_for(lambda: item_of(services, card).updated_at != before.updated_at)

    after = item_of(services, card)
    assert after.kind is (transition.moves_to or transition.kind)
    assert after.status is (transition.to or start)
    assert after.handled_by == (owner if transition.to else before.handled_by)
    if transition.ask is Ask.OWNER:
        assert after.assignee_id == ERIN
        fake.wait_for(lambda: len(cards(fake, ERIN)) == 1)
        assert "owner: @erin" in rendered(fake, cards(fake, ERIN)[0])
        assert (
            f"made you the owner of {kind_words(after.kind)} #{after.id}" in notes(fake, ERIN)[-1]
        )
    if transition.moves_to is not None:
        new_owner = OWNER[transition.moves_to]
        fake.wait_for(lambda: any(item_id(c) == str(after.id) for c in cards(fake, new_owner)))
        moved = rendered(fake, cards(fake, new_owner)[-1])
        assert f"Moved to the {kind_words(transition.moves_to)} queue" in moved
        assert "Kind picked" not in moved
    updated = card_now(fake, card)
    assert rendered(fake, updated) != rendered(fake, card)  # every copy follows
    if transition.moves_to is not None:  # left with the manager it no longer goes to
        assert buttons(updated) == [] and "Moved to the" in rendered(fake, updated)
    elif transition.to is not None:
        assert transition.label not in buttons(updated)

    if transition.hears is Hears.NOBODY:
        assert len(notes(fake, CAROL)) == heard_before
        return
    fake.wait_for(lambda: len(notes(fake, CAROL)) > heard_before)
    news = notes(fake, CAROL)[-1]
    assert f"{kind_words(transition.kind)} you raised in #launch" in news
    if transition.ask is Ask.NOTE:
        assert "*Note:* Signed a second vendor, <!channel>" in news  # escaped: plain text
    assert "<!channel>" not in str(fake.calls_to("chat.postMessage"))


def refused(fake: FakeSlack, user: str) -> Callable[[], bool]:
    return lambda: any("Sorry, only the" in seen.text for seen in fake.seen_by(user))


def kind_words(kind: ItemKind) -> str:
    return kind.value.replace("_", " ")


def test_a_note_is_optional_and_a_reopened_risk_is_open_again(
    slack: SignedClient, fake: FakeSlack, services: Services, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    card = file_risk(slack, fake, OPERATIONAL)
    press(slack, fake, BOB, card, "risk_close_operational", {"reason": "   "})
    fake.wait_for(lambda: item_of(services, card).status is ItemStatus.CLOSED)
    fake.wait_for(lambda: len(notes(fake, CAROL)) == 1)
    assert notes(fake, CAROL)[0].startswith(
        "The operational risk you raised in #launch was closed by @bob:\n>Our only SMS vendor"
    )
    assert buttons(card_now(fake, card)) == ["Reopen"]

    clock.now += timedelta(minutes=1)
    press(slack, fake, BOB, card_now(fake, card), "risk_reopen_operational")
    fake.wait_for(lambda: item_of(services, card).status is ItemStatus.OPEN)
    assert "Mitigating" in buttons(card_now(fake, card))
    clock.now += timedelta(minutes=1)
    press(slack, fake, BOB, card_now(fake, card), "risk_close_operational", {"reason": "Gone"})
    fake.wait_for(lambda: len(notes(fake, CAROL)) == 2)  # closed again: news again
    assert "*Note:* Gone" in notes(fake, CAROL)[1]


@pytest.mark.parametrize("who", ["a bot", "deactivated", "unknown"])
def test_a_risk_owner_must_be_a_person(
    slack: SignedClient, fake: FakeSlack, services: Services, who: str
) -> None:
    fake.add_user("UBOTTY", "botty", is_bot=True)
    fake.add_user("UGONE", "gone")
    fake.users["UGONE"]["deleted"] = True
    owner = {"a bot": "UBOTTY", "deactivated": "UGONE", "unknown": "UNOBODY"}[who]
    set_up_team(slack, fake)
    card = file_risk(slack, fake, MARKET)
    slack.click(ALICE, card["channel"], card["ts"], "risk_owner_market", item_id(card))
    fake.wait_for(lambda: len(fake.open_views(ALICE)) == 1)
    view = fake.open_views(ALICE)[-1]

    response = slack.view_submission(view, ALICE, state_values(view, {"owner": owner}))

    assert response.json() == {
        "response_action": "errors",
        "errors": {"owner": "A bot or a deactivated account can't own a risk: pick a person."},
    }
    assert item_of(services, card).assignee_id is None
    assert fake.dms_to(owner) == [] and notes(fake, ALICE) == []


def test_a_modal_answered_after_the_role_changed_hands_is_refused_inline(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    card = file_risk(slack, fake, MARKET)
    slack.click(ALICE, card["channel"], card["ts"], "risk_owner_market", item_id(card))
    fake.wait_for(lambda: len(fake.open_views(ALICE)) == 1)
    view = fake.open_views(ALICE)[-1]
    empty = slack.view_submission(view, ALICE, state_values(view, {}))
    assert empty.json()["errors"] == {"owner": "Pick who owns it."}
    command(slack, fake, "/role", f"remove <@{ALICE}|alice> product", ALICE)

    response = slack.view_submission(view, ALICE, state_values(view, {"owner": ERIN}))

    assert response.json()["response_action"] == "errors"
    assert response.json()["errors"]["owner"] == (
        "Sorry, only the product manager of the team channel can triage this risk."
    )
    assert item_of(services, card).assignee_id is None


def test_a_replayed_click_acts_once(
    slack: SignedClient, fake: FakeSlack, services: Services, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    card = file_risk(slack, fake, MARKET)
    press(slack, fake, ALICE, card, "risk_mitigate_market")
    fake.wait_for(lambda: item_of(services, card).status is ItemStatus.MITIGATING)
    fake.wait_for(lambda: len(notes(fake, CAROL)) == 1)
    clicked = slack.last_request
    clock.now += timedelta(minutes=1)
    press(slack, fake, ALICE, card_now(fake, card), "risk_accept_market", {"reason": "Fine"})
    fake.wait_for(lambda: item_of(services, card).status is ItemStatus.ACCEPTED)
    services.triage.items.transition(
        int(item_id(card)), [ItemStatus.ACCEPTED], ItemStatus.OPEN, ALICE, clock()
    )

    slack.last_request = clicked
    assert slack.replay().status_code == 200

    assert item_of(services, card).status is ItemStatus.OPEN  # not mitigating again
    assert notes(fake, CAROL)[0].startswith("@alice is mitigating the market risk you raised")
    assert len(notes(fake, CAROL)) == 2
