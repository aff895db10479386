"""Plan as a handoff, through signed clicks and submissions: the product manager plans into a
milestone, or asks the project manager for a new one or for room in a frozen one; the project
manager accepts, declines or defers, once, from every copy of the card."""

from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from bot.blocks.modals import TRIAGE
from bot.parsing.planning import FreezeMilestone, parse_milestone_command
from bot.parsing.words import UsageError
from handlers.listeners.handoff import STALE_BUTTON
from handlers.services import Services
from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient, state_values
from storage.models import HandoffKind, HandoffStatus, Item, ItemKind, ItemStatus
from tests.conftest import ALICE, BOB, CAROL, DAVE, ERIN, TEAM, FixedClock
from tests.handlers.scenario import (
    add_milestone,
    buttons,
    cards,
    command,
    ephemerals,
    item_id,
    notes,
    rendered,
    set_up_team,
)

PING = "<!channel>"


def file_feedback(
    slack: SignedClient, fake: FakeSlack, text: str = "Export to CSV", *, voter: str = ERIN
) -> dict[str, Any]:
    """Carol raises it in #launch (so she hears back in its thread) and `voter` +1s it; Alice's
    card, with the channel it is in."""
    before = len(cards(fake, ALICE))
    message, _ = slack.say(TEAM, CAROL, f"feedback: {text}")
    fake.wait_for(lambda: len(cards(fake, ALICE)) > before)
    slack.react(TEAM, voter, message["ts"], "bulb")
    return {**cards(fake, ALICE)[-1], "channel": fake.dm_channel(ALICE)}


def open_plan(
    slack: SignedClient, fake: FakeSlack, card: dict[str, Any], user: str = ALICE
) -> dict[str, Any]:
    """Press Plan on the card: the modal it opens."""
    slack.click(user, card["channel"], card["ts"], "item_plan", item_id(card))
    fake.wait_for(lambda: any(v["callback_id"] == "plan" for v in fake.open_views(user)))
    return fake.open_views(user)[-1]


def submit(
    slack: SignedClient, fake: FakeSlack, view: dict[str, Any], user: str, answers: dict[str, Any]
) -> httpx.Response:
    response = slack.view_submission(view, user, state_values(view, answers))
    assert response.status_code == 200
    return response


def errors(response: httpx.Response) -> dict[str, str]:
    assert response.content, "the modal closed"
    answer = response.json()
    assert answer["response_action"] == "errors"
    return dict(answer["errors"])


def item_of(services: Services, card: dict[str, Any]) -> Item:
    found = services.triage.items.get(int(item_id(card)))
    assert found is not None
    return found


def heard_in_thread(fake: FakeSlack) -> list[str]:
    """What Carol was told in the thread of her message."""
    return [
        fake.readable(m["text"])
        for m in fake.messages.get(TEAM, [])
        if m.get("thread_ts") and m.get("user") == fake.bot_user_id
    ]


def proposal(fake: FakeSlack, user: str) -> dict[str, Any]:
    """The newest card in the person's DM, as their client shows it (a proposal, here)."""
    fake.wait_for(lambda: any("Accept" in buttons(c) for c in cards(fake, user)))
    card = next(c for c in reversed(cards(fake, user)) if "Accept" in buttons(c))
    return {**card, "channel": fake.dm_channel(user)}


def current(fake: FakeSlack, card: dict[str, Any]) -> dict[str, Any]:
    """The card as it is now (updated since, maybe)."""
    found = fake.find(card["channel"], card["ts"])
    assert found is not None
    return {**found, "channel": card["channel"]}


def press(
    slack: SignedClient, fake: FakeSlack, user: str, card: dict[str, Any], action: str
) -> None:
    slack.click(user, card["channel"], card["ts"], action, item_id(card))


def modal(fake: FakeSlack, user: str, callback_id: str) -> dict[str, Any]:
    fake.wait_for(lambda: any(v["callback_id"] == callback_id for v in fake.open_views(user)))
    return fake.open_views(user)[-1]


def propose(
    slack: SignedClient, fake: FakeSlack, card: dict[str, Any], **answers: str
) -> dict[str, Any]:
    """Alice proposes a new milestone for the item; Bob's proposal card."""
    view = open_plan(slack, fake, card)
    response = submit(slack, fake, view, ALICE, {"name": "Public beta", **answers})
    assert response.content in (b"", b"{}"), response.text
    return proposal(fake, BOB)


# Planning into an open milestone -------------------------------------------------------------


def test_plan_into_an_open_milestone_is_done_at_once_and_everyone_hears_where(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    beta = add_milestone(slack, fake, services, f"Public beta {PING}")
    card = file_feedback(slack, fake)
    view = open_plan(slack, fake, card)

    assert submit(slack, fake, view, ALICE, {"plan_milestone": str(beta)}).content == b""

    planned = item_of(services, card)
    assert (planned.status, planned.milestone_id) == (ItemStatus.PLANNED, beta)
    fake.wait_for(lambda: len(heard_in_thread(fake)) == 1)
    assert heard_in_thread(fake)[0].startswith(
        "@carol The feedback you raised in #launch was planned by @alice for "
        f"*Public beta {PING}* (due Mon 14 Dec 2026):"
    )
    assert notes(fake, ERIN)[-1].startswith(
        f"Something you +1'd in #launch was planned by @alice for *Public beta {PING}*"
    )
    assert f"*Planned* by @alice for *Public beta {PING}* (due Mon 14 Dec 2026)" in rendered(
        fake, current(fake, card)
    )
    assert cards(fake, BOB) == []  # nothing to ask the project manager


def test_the_milestone_menu_offers_the_teams_open_milestones_to_its_product_manager_only(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    add_milestone(slack, fake, services, "Public beta")
    add_milestone(slack, fake, services, "GA launch", "2027-01-20")
    command(slack, fake, "/milestone", "freeze GA launch 2026-11-30", BOB)
    command(slack, fake, "/milestone", "done Public beta", BOB)
    fake.add_channel("COTHER", "other", [ALICE, BOB])
    slack.command("/milestone", "add Other launch 2026-12-20", BOB, "COTHER")
    view = open_plan(slack, fake, file_feedback(slack, fake))

    def offered(user: str, typed: str = "") -> list[str]:
        answer = slack.block_suggestion("plan_milestone", "milestone", typed, user, view).json()
        return [o["text"]["text"] for o in answer["options"]]

    assert offered(ALICE) == ["GA launch (due 2027-01-20, scope frozen)"]
    assert offered(ALICE, "beta") == []
    assert offered(CAROL) == [] and offered(BOB) == []  # not theirs to plan
    fake.channels["CLAUNCH"]["members"].discard(ALICE)
    later = services.membership.monotonic() + 61  # the members kept of #launch grew stale
    services.membership.monotonic = lambda: later
    assert offered(ALICE) == []  # her role outlives the channel; its milestones don't show


@pytest.mark.parametrize(
    ("answers", "field", "error"),
    [
        ({}, "milestone", "Pick a milestone, or name a new one below."),
        ({"plan_milestone": "beta", "name": "GA"}, "name", "not both"),
        ({"due": "2027-01-04"}, "name", "Name the new milestone."),
        ({"name": "public  BETA"}, "name", "This team already has a milestone called"),
        ({"name": "GA", "due": "2026-11-29"}, "due", "Pick a date from today on."),
        ({"plan_milestone": "²"}, "milestone", "Pick one of this team's open milestones."),
        ({"plan_milestone": "99999"}, "milestone", "Pick one of this team's open milestones."),
        # 150 characters, as the field allows, but its key casefolds to 300 ("ß" → "ss").
        ({"name": "\N{LATIN SMALL LETTER SHARP S}" * 150}, "name", "That name is too long"),
    ],
)
def test_the_plan_modal_wants_exactly_one_of_a_milestone_and_a_new_one(
    slack: SignedClient,
    fake: FakeSlack,
    services: Services,
    answers: dict[str, str],
    field: str,
    error: str,
) -> None:
    set_up_team(slack, fake)
    beta = add_milestone(slack, fake, services)
    card = file_feedback(slack, fake)
    view = open_plan(slack, fake, card)
    if answers.get("plan_milestone") == "beta":
        answers = {**answers, "plan_milestone": str(beta)}

    shown = errors(submit(slack, fake, view, ALICE, answers))

    assert list(shown) == [field] and error in shown[field]
    assert item_of(services, card).status is ItemStatus.OPEN
    assert services.handoffs.store.pending(int(item_id(card))) is None


def test_plan_is_refused_to_others_on_click_and_on_submit(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    beta = add_milestone(slack, fake, services)
    card = file_feedback(slack, fake)

    for outsider in (BOB, DAVE):  # the project manager, a workspace admin
        slack.click(outsider, card["channel"], card["ts"], "item_plan", item_id(card))
        assert ephemerals(fake, outsider)[-1] == (
            "Sorry, only the product manager of #launch can plan this."
        )
        assert fake.open_views(outsider) == []
    view = open_plan(slack, fake, card)
    command(slack, fake, "/role", f"remove <@{ALICE}|alice> product", ALICE)

    shown = errors(submit(slack, fake, view, ALICE, {"plan_milestone": str(beta)}))

    assert shown == {
        "milestone": "Sorry, only the product manager of the team channel can plan this."
    }
    assert item_of(services, card).status is ItemStatus.OPEN


def test_a_replayed_plan_submission_plans_once(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    beta = add_milestone(slack, fake, services)
    card = file_feedback(slack, fake)
    submit(slack, fake, open_plan(slack, fake, card), ALICE, {"plan_milestone": str(beta)})
    fake.wait_for(lambda: len(heard_in_thread(fake)) == 1)

    assert slack.replay().status_code == 200

    assert len(heard_in_thread(fake)) == 1
    assert not any("Already" in n for n in notes(fake, ALICE))


# A new milestone -------------------------------------------------------------------------------


def test_a_new_milestone_waits_for_the_project_manager_who_accepts_it_with_a_date(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    card = file_feedback(slack, fake)

    bobs = propose(slack, fake, card, name=f"Public beta {PING}", due="2026-12-20", owner=ERIN)

    assert rendered(fake, bobs).splitlines()[1] == (
        f"@alice wants to plan #1 'Export to CSV' (1 +1) into a new milestone *Public beta "
        f"{PING}*, for Sun 20 Dec 2026, owned by @erin."
    )
    assert buttons(bobs) == ["Accept", "Decline"]
    assert services.planning.store.tracked(TEAM) == []  # nothing is created yet
    waiting = item_of(services, card)
    assert waiting.status is ItemStatus.OPEN and heard_in_thread(fake) == []
    alices = rendered(fake, current(fake, card))
    assert f"Waiting for the project manager: new milestone *Public beta {PING}*" in alices
    assert "Plan" not in buttons(current(fake, card)) and "Decline" in buttons(card)
    # Plan again (an older copy's button) is refused while the project manager has not
    # answered, and says why.
    slack.click(ALICE, card["channel"], card["ts"], "item_plan", item_id(card))
    assert ephemerals(fake, ALICE)[-1].startswith("Waiting for the project manager: new")
    assert ephemerals(fake, ALICE)[-1].endswith("You can plan it again once they answer.")

    press(slack, fake, BOB, bobs, "handoff_accept_milestone")
    accept = modal(fake, BOB, "handoff_accept")
    assert "Public beta &lt;!channel&gt;" in str(accept["blocks"])
    response = submit(slack, fake, accept, BOB, {"due": "2026-12-21", "owner": ERIN})

    assert response.content == b""
    [created] = [t.milestone for t in services.planning.store.tracked(TEAM)]
    assert (created.name, created.due_date, created.owner_id, created.created_by) == (
        f"Public beta {PING}",
        date(2026, 12, 21),
        ERIN,
        BOB,
    )
    planned = item_of(services, card)
    assert (planned.status, planned.milestone_id, planned.handled_by) == (
        ItemStatus.PLANNED,
        created.id,
        ALICE,
    )
    fake.wait_for(lambda: len(heard_in_thread(fake)) == 1)
    assert (
        f"planned by @alice for *Public beta {PING}* (due Mon 21 Dec 2026)"
        in (heard_in_thread(fake)[0])
    )
    assert notes(fake, ALICE)[-1].startswith(
        f"@bob accepted the new milestone *Public beta {PING}* you proposed: due Mon 21 Dec 2026."
    )
    settled = current(fake, bobs)
    assert buttons(settled) == []
    assert "*Accepted* by @bob: due Mon 21 Dec 2026" in rendered(fake, settled)
    assert "Waiting for the project manager" not in rendered(fake, current(fake, card))

    # Bob's client still shows the buttons: a second Accept changes nothing, and says so.
    posted = len(fake.calls_to("chat.postMessage"))
    press(slack, fake, BOB, bobs, "handoff_accept_milestone")
    assert ephemerals(fake, BOB)[-1] == "Already accepted by @bob."
    assert len(fake.calls_to("chat.postMessage")) == posted
    assert len(services.planning.store.tracked(TEAM)) == 1


def test_accepting_a_name_someone_created_meanwhile_plans_into_that_milestone(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    card = file_feedback(slack, fake)
    bobs = propose(slack, fake, card, due="2026-12-20")
    beta = add_milestone(slack, fake, services, "public BETA", "2026-12-18")
    press(slack, fake, BOB, bobs, "handoff_accept_milestone")

    submit(slack, fake, modal(fake, BOB, "handoff_accept"), BOB, {"due": "2026-12-20"})

    assert [t.milestone.id for t in services.planning.store.tracked(TEAM)] == [beta]
    assert item_of(services, card).milestone_id == beta
    assert "*Accepted* by @bob: due Fri 18 Dec 2026" in rendered(fake, current(fake, bobs))


def test_scope_creep_into_a_milestone_done_meanwhile_can_only_be_deferred(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    beta = add_milestone(slack, fake, services)
    command(slack, fake, "/milestone", "freeze Public beta 2026-11-30", BOB)
    card = file_feedback(slack, fake)
    submit(slack, fake, open_plan(slack, fake, card), ALICE, {"plan_milestone": str(beta)})
    bobs = proposal(fake, BOB)
    command(slack, fake, "/milestone", "done Public beta", BOB)

    press(slack, fake, BOB, bobs, "handoff_accept_creep")

    assert ephemerals(fake, BOB)[-1] == (
        "That milestone is done: defer the item into another one instead."
    )
    assert item_of(services, card).status is ItemStatus.OPEN
    assert buttons(current(fake, bobs)) == ["Accept", "Defer"]


def test_only_a_project_manager_of_the_team_decides_and_on_submit_too(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    card = file_feedback(slack, fake)
    bobs = propose(slack, fake, card, due="2026-12-20")

    for outsider in (ALICE, CAROL, DAVE):  # the product manager, the reporter, an admin
        press(slack, fake, outsider, bobs, "handoff_accept_milestone")
        fake.wait_for(lambda u=outsider: len(ephemerals(fake, u)) >= 1)  # type: ignore[misc]
        assert ephemerals(fake, outsider)[-1] == (
            "Sorry, only the project manager of #launch can decide this."
        )
    press(slack, fake, BOB, bobs, "handoff_decline")
    decline = modal(fake, BOB, "handoff_decline")
    command(slack, fake, "/role", f"remove <@{BOB}|bob> project", BOB)

    shown = errors(submit(slack, fake, decline, BOB, {"reason": "No"}))

    assert shown == {
        "reason": "Sorry, only the project manager of the team channel can decide this."
    }
    assert services.handoffs.store.pending(int(item_id(card))) is not None
    assert buttons(current(fake, bobs)) == ["Accept", "Decline"]


def test_accept_wants_a_date_from_today_and_a_declined_proposal_frees_the_item(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/role", f"<@{ERIN}|erin> project", BOB)
    card = file_feedback(slack, fake, voter=DAVE)
    bobs = propose(slack, fake, card)  # no date proposed
    erins = proposal(fake, ERIN)  # each project manager has a copy
    press(slack, fake, ERIN, erins, "handoff_accept_milestone")
    accept = modal(fake, ERIN, "handoff_accept")

    assert errors(submit(slack, fake, accept, ERIN, {})) == {"due": "Pick the day it is due."}
    past = submit(slack, fake, accept, ERIN, {"due": "2026-11-29"})
    assert errors(past) == {"due": "Pick a date from today on."}

    press(slack, fake, BOB, bobs, "handoff_decline")
    decline = modal(fake, BOB, "handoff_decline")
    assert errors(submit(slack, fake, decline, BOB, {"reason": "  "})) == {
        "reason": "Say why: the product manager will read this."
    }
    submit(slack, fake, decline, BOB, {"reason": f"Fold it into GA {PING}"})

    fake.wait_for(lambda: any("declined the new milestone" in n for n in notes(fake, ALICE)))
    assert notes(fake, ALICE)[-1] == (
        "@bob declined the new milestone *Public beta* you proposed for #1 'Export to CSV'.\n"
        f"*Reason:* Fold it into GA {PING}\n"
        "It is back in your queue: plan it again when you're ready."
    )
    for copy in (bobs, erins):
        settled = current(fake, copy)
        assert buttons(settled) == []
        assert f"*Declined* by @bob\n_reason:_ Fold it into GA {PING}" in rendered(fake, settled)
    # Erin's modal, opened before Bob's answer, is told who answered first.
    late = submit(slack, fake, accept, ERIN, {"due": "2026-12-20"})
    assert errors(late) == {"due": "Already declined by a teammate."}  # plain text: no @
    assert services.planning.store.tracked(TEAM) == []
    assert heard_in_thread(fake) == []  # nothing happened to what Carol raised
    # The item is back to normal: no waiting line, and Plan opens its modal again.
    assert "Waiting for" not in rendered(fake, current(fake, card))
    open_plan(slack, fake, card)


def test_a_project_queue_channel_gets_one_proposal_card(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    fake.channels["CQUEUE"]["members"].add(BOB)
    command(slack, fake, "/rolecall", "queue project <#CQUEUE>", BOB)
    card = file_feedback(slack, fake)
    view = open_plan(slack, fake, card)

    submit(slack, fake, view, ALICE, {"name": "Public beta", "due": "2026-12-20"})

    [queued] = [m for m in fake.messages["CQUEUE"] if "Accept" in buttons(m)]
    assert cards(fake, BOB) == []
    press(slack, fake, BOB, {**queued, "channel": "CQUEUE"}, "handoff_accept_milestone")
    submit(slack, fake, modal(fake, BOB, "handoff_accept"), BOB, {"due": "2026-12-20"})
    assert item_of(services, card).status is ItemStatus.PLANNED
    assert "*Accepted* by @bob" in rendered(fake, current(fake, {**queued, "channel": "CQUEUE"}))


def test_a_new_milestone_needs_a_project_manager_to_ask(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    command(slack, fake, "/role", f"<@{ALICE}|alice> product", ALICE)
    card = file_feedback(slack, fake)

    shown = errors(submit(slack, fake, open_plan(slack, fake, card), ALICE, {"name": "Beta"}))

    assert shown == {
        "name": "This team has no project manager yet: a new milestone needs one to create it."
    }


def test_a_tampered_or_foreign_proposal_button_is_a_polite_refusal(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    card = file_feedback(slack, fake)
    bobs = propose(slack, fake, card)
    dm = fake.dm_channel(BOB)

    slack.click(BOB, dm, bobs["ts"], "handoff_decline", "not a number")
    assert ephemerals(fake, BOB)[-1] == STALE_BUTTON
    slack.click(BOB, dm, bobs["ts"], "handoff_decline", "4242")
    assert ephemerals(fake, BOB)[-1] == "That proposal no longer exists."
    slack.click(BOB, dm, bobs["ts"], "handoff_defer", item_id(bobs))  # not scope creep
    assert ephemerals(fake, BOB)[-1] == "That proposal no longer exists."
    assert fake.open_views(BOB) == []


# Scope freeze and scope creep ---------------------------------------------------------------


def test_the_project_manager_freezes_a_milestones_scope_and_opens_it_again(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    beta = add_milestone(slack, fake, services)

    later = command(slack, fake, "/milestone", "freeze public BETA 2026-12-10", BOB)
    refused = command(slack, fake, "/milestone", "freeze Public beta 2026-12-01", ALICE)
    now = command(slack, fake, "/milestone", "freeze Public beta 2026-11-30", BOB)
    frozen = services.handoffs.store.milestone(beta)
    opened = command(slack, fake, "/milestone", "freeze Public beta off", BOB)

    assert later == (
        "From Thu 10 Dec 2026, feedback planned into *Public beta* needs the project "
        "manager's OK. It is due Mon 14 Dec 2026."
    )
    assert refused.startswith("Sorry, only the project manager of #launch")
    assert now.startswith("*Public beta*'s scope is frozen (since Mon 30 Nov 2026)")
    assert frozen is not None and frozen.freeze_date == date(2026, 11, 30)
    assert opened.startswith("*Public beta*'s scope is open again")
    reopened = services.handoffs.store.milestone(beta)
    assert reopened is not None and reopened.freeze_date is None


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("freeze Public beta", "Usage: `/milestone add"),
        ("freeze", "Usage: `/milestone add"),
        ("freeze Public beta 2026-02-30", "`2026-02-30` is not a date on the calendar"),
        ("freeze GA 2026-12-01", "#launch has no open milestone called *GA*. Open ones:"),
        ("freeze Public beta 2026-12-15", "freeze its scope on or before that day"),
    ],
)
def test_a_bad_freeze_gets_a_usage_reply(
    slack: SignedClient, fake: FakeSlack, services: Services, text: str, reply: str
) -> None:
    set_up_team(slack, fake)
    add_milestone(slack, fake, services)

    assert reply in command(slack, fake, "/milestone", text, BOB)


def test_freeze_parses_a_name_and_a_day_or_off() -> None:
    assert parse_milestone_command("freeze Public beta 2027-02-01") == FreezeMilestone(
        "Public beta", date(2027, 2, 1)
    )
    assert parse_milestone_command("freeze Public  beta OFF") == FreezeMilestone(
        "Public beta", None
    )
    with pytest.raises(UsageError):
        parse_milestone_command("freeze off")


def test_a_freeze_counts_from_the_teams_own_day(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    """08:00 UTC on Mon 30 Nov is still Sunday in Anchorage: frozen from Monday, not yet."""
    set_up_team(slack, fake)
    command(slack, fake, "/rolecall", "timezone America/Anchorage", ALICE)
    beta = add_milestone(slack, fake, services)
    command(slack, fake, "/milestone", "freeze Public beta 2026-11-30", BOB)
    card = file_feedback(slack, fake)

    submit(slack, fake, open_plan(slack, fake, card), ALICE, {"plan_milestone": str(beta)})

    assert item_of(services, card).status is ItemStatus.PLANNED
    assert cards(fake, BOB) == []


def test_scope_creep_waits_for_the_project_manager_who_accepts_it_at_a_cost(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    beta = add_milestone(slack, fake, services)
    command(slack, fake, "/milestone", "freeze Public beta 2026-11-30", BOB)
    card = file_feedback(slack, fake)
    view = open_plan(slack, fake, card)

    submit(slack, fake, view, ALICE, {"plan_milestone": str(beta)})

    bobs = proposal(fake, BOB)
    assert rendered(fake, bobs).splitlines()[1] == (
        "@alice wants to add #1 'Export to CSV' (1 +1) to *Public beta*, frozen since "
        "Mon 30 Nov 2026, due Mon 14 Dec 2026."
    )
    assert buttons(bobs) == ["Accept", "Defer"]
    assert item_of(services, card).status is ItemStatus.OPEN
    assert "Waiting for the project manager: scope creep into *Public beta*" in rendered(
        fake, current(fake, card)
    )

    press(slack, fake, BOB, bobs, "handoff_accept_creep")  # one click: nothing to ask

    planned = item_of(services, card)
    assert (planned.status, planned.milestone_id) == (ItemStatus.PLANNED, beta)
    assert services.handoffs.store.accepted_creep(TEAM) == {beta: 1}
    fake.wait_for(lambda: len(heard_in_thread(fake)) == 1)
    assert "planned by @alice for *Public beta* (due Mon 14 Dec 2026)" in heard_in_thread(fake)[0]
    assert "Something you +1'd" in notes(fake, ERIN)[-1]
    assert notes(fake, ALICE)[-1] == (
        "Scope creep accepted into *Public beta*: due Mon 14 Dec 2026 with 1 item added after "
        "the freeze. @bob took #1 'Export to CSV' in."
    )
    assert buttons(current(fake, bobs)) == []
    assert "*Accepted* by @bob" in rendered(fake, current(fake, bobs))

    posted = len(fake.calls_to("chat.postMessage"))
    assert slack.replay().status_code == 200  # the same click again: acts once
    press(slack, fake, BOB, bobs, "handoff_accept_creep")  # a second click: says so
    assert ephemerals(fake, BOB)[-1] == "Already accepted by @bob."
    assert len(fake.calls_to("chat.postMessage")) == posted
    assert services.handoffs.store.accepted_creep(TEAM) == {beta: 1}


@pytest.mark.parametrize("into", ["GA", "backlog"])
def test_deferred_scope_creep_is_planned_elsewhere_and_the_product_manager_told(
    slack: SignedClient, fake: FakeSlack, services: Services, into: str
) -> None:
    set_up_team(slack, fake)
    beta = add_milestone(slack, fake, services)
    ga = add_milestone(slack, fake, services, "GA", "2027-01-20")
    command(slack, fake, "/milestone", "freeze Public beta 2026-11-30", BOB)
    card = file_feedback(slack, fake)
    submit(slack, fake, open_plan(slack, fake, card), ALICE, {"plan_milestone": str(beta)})
    bobs = proposal(fake, BOB)

    press(slack, fake, BOB, bobs, "handoff_defer")
    defer = modal(fake, BOB, "handoff_defer")
    [target] = [b for b in defer["blocks"] if b.get("block_id") == "target"]
    assert [o["value"] for o in target["element"]["options"]] == ["backlog", str(ga)]
    forged = submit(slack, fake, defer, BOB, {"target": str(beta)})
    assert errors(forged) == {"target": "Pick another open milestone of this team, or the backlog."}
    chosen = str(ga) if into == "GA" else "backlog"
    submit(slack, fake, defer, BOB, {"target": chosen, "reason": "Beta is full"})

    planned = item_of(services, card)
    assert planned.status is ItemStatus.PLANNED
    assert planned.milestone_id == (ga if into == "GA" else None)
    decided = services.handoffs.store.get(int(item_id(bobs)))
    assert decided is not None and decided.status is HandoffStatus.DEFERRED
    assert services.handoffs.store.accepted_creep(TEAM) == {}
    fake.wait_for(lambda: any("kept #1" in n for n in notes(fake, ALICE)))
    told = notes(fake, ALICE)[-1]
    assert told.startswith("@bob kept #1 'Export to CSV' out of *Public beta*, which is frozen")
    assert told.endswith("*Reason:* Beta is full")
    fake.wait_for(lambda: len(heard_in_thread(fake)) == 1)
    if into == "GA":
        assert "into *GA* (due Wed 20 Jan 2027) instead" in told
        assert "planned by @alice for *GA* (due Wed 20 Jan 2027)" in heard_in_thread(fake)[0]
        assert "*Deferred* to *GA* by @bob" in rendered(fake, current(fake, bobs))
    else:
        assert "planned with no milestone (the backlog)" in told
        assert "was planned by @alice:" in heard_in_thread(fake)[0]
        assert "*Deferred* to the backlog by @bob" in rendered(fake, current(fake, bobs))
    assert buttons(current(fake, bobs)) == []


# Recovery ------------------------------------------------------------------------------------


def test_a_decision_whose_follow_ups_never_ran_is_finished_by_the_next_click(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    """The process stopped right after storing Bob's Accept: his card still offers it."""
    set_up_team(slack, fake)
    beta = add_milestone(slack, fake, services)
    command(slack, fake, "/milestone", "freeze Public beta 2026-11-30", BOB)
    card = file_feedback(slack, fake)
    submit(slack, fake, open_plan(slack, fake, card), ALICE, {"plan_milestone": str(beta)})
    bobs = proposal(fake, BOB)
    handoff_id = int(item_id(bobs))
    assert services.handoffs.store.decide(handoff_id, HandoffStatus.ACCEPTED, BOB, services.clock())

    press(slack, fake, BOB, bobs, "handoff_accept_creep")

    assert ephemerals(fake, BOB)[-1] == "Already accepted by @bob."
    assert item_of(services, card).status is ItemStatus.PLANNED
    fake.wait_for(lambda: len(heard_in_thread(fake)) == 1)
    assert notes(fake, ALICE)[-1].startswith("Scope creep accepted into *Public beta*")
    assert buttons(current(fake, bobs)) == []


def test_a_proposal_card_slack_refused_is_posted_by_a_later_run_once(
    slack: SignedClient, fake: FakeSlack, services: Services, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    card = file_feedback(slack, fake)
    view = open_plan(slack, fake, card)
    fake.fail_next("chat.postMessage", "internal_error")  # Slack answers; nothing was posted

    submit(slack, fake, view, ALICE, {"name": "Public beta"})

    assert cards(fake, BOB) == []
    pending = services.handoffs.store.pending(int(item_id(card)))
    assert pending is not None and pending.kind is HandoffKind.NEW_MILESTONE
    clock.now += timedelta(minutes=2)
    services.ticker.tick(clock.now)
    services.ticker.tick(clock.now + timedelta(minutes=5))

    [bobs] = [c for c in cards(fake, BOB) if "Accept" in buttons(c)]
    assert "new milestone *Public beta*" in rendered(fake, bobs)


# One person holding both roles ---------------------------------------------------------------


def test_a_founder_with_both_roles_plans_a_new_milestone_without_asking_themselves(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/role", f"<@{ALICE}|alice> project", ALICE)
    card = file_feedback(slack, fake)
    view = open_plan(slack, fake, card)

    undated = submit(slack, fake, view, ALICE, {"name": "Public beta"})
    assert errors(undated) == {
        "due": "You are this team's project manager too: give the milestone its date."
    }
    long = submit(slack, fake, view, ALICE, {"name": "ß" * 150, "due": "2026-12-14"})
    assert errors(long) == {"name": "That name is too long: keep it under 150 characters."}
    submit(slack, fake, view, ALICE, {"name": "Public beta", "due": "2026-12-14"})

    planned = item_of(services, card)
    assert planned.status is ItemStatus.PLANNED
    [tracked] = services.planning.store.tracked(TEAM)
    assert (tracked.milestone.name, tracked.milestone.due_date) == (
        "Public beta",
        date(2026, 12, 14),
    )
    assert planned.milestone_id == tracked.milestone.id
    fake.wait_for(lambda: len(heard_in_thread(fake)) == 1)
    assert not any("Accept" in buttons(c) for who in (ALICE, BOB) for c in cards(fake, who))


def test_a_founder_with_both_roles_takes_scope_creep_in_and_reads_the_cost(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/role", f"<@{ALICE}|alice> project", ALICE)
    beta = add_milestone(slack, fake, services)
    command(slack, fake, "/milestone", "freeze Public beta 2026-11-30", ALICE)
    card = file_feedback(slack, fake)
    view = open_plan(slack, fake, card)

    submit(slack, fake, view, ALICE, {"plan_milestone": str(beta)})

    planned = item_of(services, card)
    assert (planned.status, planned.milestone_id) == (ItemStatus.PLANNED, beta)
    assert services.handoffs.store.accepted_creep(TEAM) == {beta: 1}  # the digest counts it
    fake.wait_for(lambda: any("Scope creep accepted" in n for n in notes(fake, ALICE)))
    assert not any("Accept" in buttons(c) for who in (ALICE, BOB) for c in cards(fake, who))


# Names, owners and the menu ------------------------------------------------------------------


@pytest.mark.parametrize("who", ["a bot", "deactivated"])
def test_a_proposed_or_accepted_owner_must_be_a_person(
    slack: SignedClient, fake: FakeSlack, services: Services, who: str
) -> None:
    fake.add_user("UBOTTY", "botty", is_bot=True)
    fake.add_user("UGONE", "gone")
    fake.users["UGONE"]["deleted"] = True
    owner = "UBOTTY" if who == "a bot" else "UGONE"
    not_a_person = "A bot or a deactivated account can't own a milestone: pick a person."
    set_up_team(slack, fake)
    card = file_feedback(slack, fake)
    view = open_plan(slack, fake, card)

    proposed = submit(slack, fake, view, ALICE, {"name": "Public beta", "owner": owner})

    assert errors(proposed) == {"owner": not_a_person}
    assert services.handoffs.store.pending(int(item_id(card))) is None
    bobs = propose(slack, fake, card, owner=ERIN)
    press(slack, fake, BOB, bobs, "handoff_accept_milestone")
    accept = modal(fake, BOB, "handoff_accept")
    accepted = submit(slack, fake, accept, BOB, {"due": "2026-12-20", "owner": owner})
    assert errors(accepted) == {"owner": not_a_person}
    assert services.planning.store.tracked(TEAM) == []
    assert buttons(current(fake, bobs)) == ["Accept", "Decline"]


def test_the_milestone_menu_shortens_a_long_name_never_its_date_or_freeze(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    long = "Self-serve onboarding for enterprise workspaces with SSO " * 2
    add_milestone(slack, fake, services, long.strip())
    command(slack, fake, "/milestone", f"freeze {long.strip()} 2026-11-30", BOB)
    view = open_plan(slack, fake, file_feedback(slack, fake))

    answer = slack.block_suggestion("plan_milestone", "milestone", "sso", ALICE, view).json()

    [text] = [o["text"]["text"] for o in answer["options"]]
    assert text.startswith("Self-serve onboarding for enterprise")
    assert text.endswith("… (due 2026-12-14, scope frozen)") and len(text) == 75


# When the project role changes hands -----------------------------------------------------------


def test_a_new_project_manager_gets_the_proposals_still_waiting_and_decides_them(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    beta = add_milestone(slack, fake, services)
    command(slack, fake, "/milestone", "freeze Public beta 2026-11-30", BOB)
    creep = file_feedback(slack, fake, "Dark mode")
    submit(slack, fake, open_plan(slack, fake, creep), ALICE, {"plan_milestone": str(beta)})
    bobs_creep = proposal(fake, BOB)
    card = file_feedback(slack, fake)
    bobs = propose(slack, fake, card, name="GA launch", due="2026-12-20")
    declined = file_feedback(slack, fake, "Offline mode")
    bobs_declined = propose(slack, fake, declined, name="Offline")
    press(slack, fake, BOB, bobs_declined, "handoff_decline")
    submit(slack, fake, modal(fake, BOB, "handoff_decline"), BOB, {"reason": "Not this year"})

    reply = command(slack, fake, "/role", f"<@{DAVE}|dave> project", ALICE)
    # Taking the role again sends nothing twice (a card is keyed per handoff and person).
    command(slack, fake, "/role", f"remove <@{DAVE}|dave> project", ALICE)
    again = command(slack, fake, "/role", f"<@{DAVE}|dave> project", ALICE)
    command(slack, fake, "/role", f"remove <@{BOB}|bob> project", ALICE)

    assert again == "@dave is now the project manager of #launch."
    assert reply == (
        "@dave is now the project manager of #launch. I sent them 2 proposals waiting for a "
        "project manager's answer."
    )
    daves = [c for c in cards(fake, DAVE) if "Accept" in buttons(c)]
    assert [rendered(fake, c).splitlines()[0] for c in daves] == [
        "*Scope creep* into *Public beta* of #launch",
        "*New milestone proposed* for #launch",
    ]
    assert "into a new milestone *GA launch*, for Sun 20 Dec 2026." in rendered(fake, daves[1])
    # Bob's old card refuses him politely; Dave's answers.
    press(slack, fake, BOB, bobs, "handoff_accept_milestone")
    assert ephemerals(fake, BOB)[-1] == (
        "Sorry, only the project manager of #launch can decide this."
    )
    dm = fake.dm_channel(DAVE)
    press(slack, fake, DAVE, {**daves[0], "channel": dm}, "handoff_accept_creep")
    press(slack, fake, DAVE, {**daves[1], "channel": dm}, "handoff_accept_milestone")
    submit(slack, fake, modal(fake, DAVE, "handoff_accept"), DAVE, {"due": "2026-12-20"})
    assert item_of(services, creep).status is ItemStatus.PLANNED
    assert item_of(services, card).status is ItemStatus.PLANNED
    for copy in (bobs_creep, bobs):  # every copy, the old holder's too, shows the outcome
        assert buttons(current(fake, copy)) == []
        assert "*Accepted* by @dave" in rendered(fake, current(fake, copy))
    assert "*Declined* by @bob" in rendered(fake, current(fake, bobs_declined))


def test_a_project_queue_channel_keeps_its_one_card_when_the_role_changes_hands(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    fake.channels["CQUEUE"]["members"].update({BOB, DAVE})
    command(slack, fake, "/rolecall", "queue project <#CQUEUE>", BOB)
    card = file_feedback(slack, fake)
    submit(slack, fake, open_plan(slack, fake, card), ALICE, {"name": "Public beta"})

    reply = command(slack, fake, "/role", f"<@{DAVE}|dave> project", ALICE)

    assert reply == "@dave is now the project manager of #launch."
    assert len([m for m in fake.messages["CQUEUE"] if "Accept" in buttons(m)]) == 1
    assert cards(fake, DAVE) == []


# Feedback triaged otherwise while its plan waits ----------------------------------------------


@pytest.mark.parametrize(
    ("action", "became"),
    [
        ("item_decline", "declined"),
        ("item_duplicate", "marked duplicate"),
        ("item_to_blockers", "moved to the blocker queue"),
    ],
)
def test_feedback_triaged_otherwise_withdraws_its_waiting_plan(
    slack: SignedClient, fake: FakeSlack, services: Services, action: str, became: str
) -> None:
    set_up_team(slack, fake)
    beta = add_milestone(slack, fake, services)
    command(slack, fake, "/milestone", "freeze Public beta 2026-11-30", BOB)
    original = file_feedback(slack, fake, "Audit log export")
    card = file_feedback(slack, fake)
    submit(slack, fake, open_plan(slack, fake, card), ALICE, {"plan_milestone": str(beta)})
    bobs = proposal(fake, BOB)
    handoff_id = int(item_id(bobs))

    slack.click(ALICE, card["channel"], card["ts"], action, item_id(card))
    if action != "item_to_blockers":
        answers = {"reason": "Not for now"}
        if action == "item_duplicate":
            answers = {"item_original": item_id(original)}
        assert submit(slack, fake, modal(fake, ALICE, TRIAGE), ALICE, answers).content == b""

    fake.wait_for(lambda: buttons(current(fake, bobs)) == [])
    withdrawn = services.handoffs.store.get(handoff_id)
    assert withdrawn is not None
    assert (withdrawn.status, withdrawn.decided_by) == (HandoffStatus.WITHDRAWN, ALICE)
    said = f"#{item_id(card)} was {became} by @alice"
    assert f"*Withdrawn*: {said}. Nothing is left to decide." in rendered(fake, current(fake, bobs))
    # Bob's client may still show the buttons: Accept plans nothing and counts no creep.
    press(slack, fake, BOB, bobs, "handoff_accept_creep")
    assert ephemerals(fake, BOB)[-1] == f"Withdrawn: {said}."
    assert services.handoffs.store.accepted_creep(TEAM) == {}
    assert item_of(services, card).status is not ItemStatus.PLANNED
    assert not any("Scope creep accepted" in n for n in notes(fake, ALICE))
    assert services.handoffs.store.pending(int(item_id(card))) is None


def test_a_blocker_moved_back_to_feedback_can_be_planned_again(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    card = file_feedback(slack, fake)
    bobs = propose(slack, fake, card, due="2026-12-20")
    slack.click(ALICE, card["channel"], card["ts"], "item_to_blockers", item_id(card))
    fake.wait_for(lambda: buttons(current(fake, bobs)) == [])
    blocker = next(c for c in cards(fake, BOB) if "Move to feedback" in buttons(c))

    press(slack, fake, BOB, {**blocker, "channel": fake.dm_channel(BOB)}, "item_to_feedback")

    fake.wait_for(lambda: item_of(services, card).kind is ItemKind.FEEDBACK)
    assert "Waiting for the project manager" not in rendered(fake, current(fake, card))
    open_plan(slack, fake, current(fake, card))  # not refused: nothing waits any more
    press(slack, fake, BOB, bobs, "handoff_accept_milestone")  # the old proposal stays settled
    assert ephemerals(fake, BOB)[-1] == (
        f"Withdrawn: #{item_id(card)} was moved to the blocker queue by @alice."
    )
    assert services.planning.store.tracked(TEAM) == []


def test_a_proposal_left_waiting_for_an_item_moved_away_cannot_be_accepted(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    """A move whose follow-ups never ran (the process stopped) left the proposal waiting: the
    project manager's answer is refused, and creates no milestone."""
    set_up_team(slack, fake)
    card = file_feedback(slack, fake)
    bobs = propose(slack, fake, card, due="2026-12-20")
    moved = services.triage.items.transition(
        int(item_id(card)),
        (ItemStatus.OPEN,),
        ItemStatus.OPEN,
        ALICE,
        services.clock(),
        kind=ItemKind.BLOCKER,
        moved_from=ItemKind.FEEDBACK,
    )
    assert moved

    press(slack, fake, BOB, bobs, "handoff_accept_milestone")

    assert ephemerals(fake, BOB)[-1] == (
        f"#{item_id(card)} was moved to the blocker queue by @alice meanwhile: nothing is left "
        "to plan."
    )
    assert fake.open_views(BOB) == []
    assert services.planning.store.tracked(TEAM) == []
