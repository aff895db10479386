"""The edges of the two queues: a message merged or moved and raised again, a suggestion whose
original closed or moved, a move to a role nobody holds, a search typed in capitals, a
Duplicate modal whose original closed while it was open, and what a refusal says."""

from datetime import timedelta

import pytest

from handlers.services import Services
from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient, state_values
from storage.models import ItemKind, ItemStatus
from tests.conftest import ALICE, BOB, CAROL, DAVE, ERIN, TEAM, FixedClock
from tests.handlers.scenario import (
    buttons,
    cards,
    command,
    ephemerals,
    item_id,
    notes,
    rendered,
    set_up_team,
    tick,
)
from tests.handlers.test_triage_table import file_item, item_of, press, reporter_heard

AUDIT_LOG = "Let admins export the audit log as CSV"
RETYPED = "feedback: let admins export the audit-log as csv!!"  # close enough to suggest a merge


def test_a_plus_one_on_a_merged_duplicates_message_counts_on_its_original(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    original = file_item(slack, fake, ItemKind.FEEDBACK, AUDIT_LOG)
    duplicate = file_item(slack, fake, ItemKind.FEEDBACK, "Audit log CSV please")
    press(slack, fake, ALICE, duplicate, "item_duplicate", {"item_original": item_id(original)})
    fake.wait_for(lambda: item_of(services, duplicate).status is ItemStatus.DUPLICATE)

    slack.react(TEAM, ERIN, item_of(services, duplicate).source_ts or "", "bulb")

    fake.wait_for(lambda: len(ephemerals(fake, ERIN)) == 1)
    assert ephemerals(fake, ERIN) == [
        f"That message was merged into #{item_id(original)} in #launch's product manager "
        "queue; I counted your +1 there."
    ]
    assert item_of(services, original).vote_count == 1
    press(slack, fake, ALICE, original, "item_decline", {"reason": "Not this year"})
    fake.wait_for(lambda: any("Something you +1'd" in n for n in notes(fake, ERIN)))
    assert "was declined by @alice" in notes(fake, ERIN)[-1]


def test_a_reaction_on_a_moved_items_message_counts_where_it_went(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    card = file_item(slack, fake, ItemKind.FEEDBACK, "The build server is down")
    press(slack, fake, ALICE, card, "item_to_blockers")
    fake.wait_for(lambda: item_of(services, card).kind is ItemKind.BLOCKER)
    alice_cards = len(cards(fake, ALICE))

    slack.react(TEAM, ERIN, item_of(services, card).source_ts or "", "bulb")

    fake.wait_for(lambda: len(ephemerals(fake, ERIN)) == 1)
    assert ephemerals(fake, ERIN) == [
        "That message is already in #launch's project manager queue; I counted your +1."
    ]
    assert item_of(services, card).vote_count == 1
    assert services.triage.items.open_queue(TEAM, ItemKind.FEEDBACK) == []
    assert len(cards(fake, ALICE)) == alice_cards  # not filed again in the queue it left


def test_a_card_never_suggests_an_original_that_moved_to_the_other_queue(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    original = file_item(slack, fake, ItemKind.FEEDBACK, AUDIT_LOG)
    press(slack, fake, ALICE, original, "item_to_blockers")
    fake.wait_for(lambda: item_of(services, original).kind is ItemKind.BLOCKER)

    slack.say(TEAM, ERIN, RETYPED)

    fake.wait_for(lambda: len(cards(fake, ALICE)) == 2)
    retyped = cards(fake, ALICE)[-1]
    assert "Looks like" not in rendered(fake, retyped)
    assert "Merge" not in buttons(retyped)


def test_a_refused_merge_takes_the_suggestion_of_a_closed_original_off_the_card(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    original = file_item(slack, fake, ItemKind.FEEDBACK, AUDIT_LOG)
    slack.say(TEAM, ERIN, RETYPED)
    fake.wait_for(lambda: len(cards(fake, ALICE)) == 2)
    retyped = {**cards(fake, ALICE)[-1], "channel": fake.dm_channel(ALICE)}
    assert "Merge" in buttons(retyped)
    press(slack, fake, ALICE, original, "item_decline", {"reason": "Not this year"})
    fake.wait_for(lambda: item_of(services, original).status is ItemStatus.DECLINED)
    told_before = len(ephemerals(fake, ALICE))

    press(slack, fake, ALICE, retyped, "item_merge")

    fake.wait_for(lambda: len(ephemerals(fake, ALICE)) > told_before)
    assert ephemerals(fake, ALICE)[-1] == "Pick an open item of the same team to merge it into."
    now = fake.find(retyped["channel"], retyped["ts"])
    assert now is not None
    assert "Merge" not in buttons(now)
    assert "Looks like" not in rendered(fake, now)
    assert "Duplicate" in buttons(now)  # still open: the owner may pick another original


@pytest.mark.parametrize("held", [True, False], ids=["held", "nobody"])
def test_a_move_to_a_role_nobody_holds_is_not_told_as_handed_over(
    held: bool, slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    command(slack, fake, "/role", f"<@{ALICE}|alice> product", ALICE)
    if held:
        command(slack, fake, "/role", f"<@{BOB}|bob> project", ALICE)
    card = file_item(slack, fake, ItemKind.FEEDBACK, "The build server is down")
    told_before = len(ephemerals(fake, ALICE))

    press(slack, fake, ALICE, card, "item_to_blockers")

    fake.wait_for(lambda: len(reporter_heard(fake)) == 1)
    moved = "@carol The feedback you raised in #launch was moved to the blocker queue by @alice"
    if held:
        assert reporter_heard(fake)[-1].startswith(f"{moved}: the project manager has it now:")
        assert len(ephemerals(fake, ALICE)) == told_before
        return
    assert reporter_heard(fake)[-1].startswith(
        f"{moved}: it waits there until #launch has a project manager:"
    )
    fake.wait_for(lambda: len(ephemerals(fake, ALICE)) > told_before)
    assert ephemerals(fake, ALICE)[-1] == (
        "Moved to the blocker queue, but nobody in #launch is the project manager yet: it "
        "waits there until someone takes the role (`/role @person project`)."
    )


def test_a_move_to_a_role_nobody_holds_is_told_so_when_its_notice_is_recovered(
    slack: SignedClient, fake: FakeSlack, services: Services, clock: FixedClock
) -> None:
    command(slack, fake, "/role", f"<@{ALICE}|alice> product", ALICE)
    command(slack, fake, "/feedback", "The build server is down", CAROL)
    [queued] = services.triage.items.open_queue(TEAM, ItemKind.FEEDBACK)
    assert queued.item.id is not None
    # The move committed; the process died before claiming the reporter's notice.
    services.triage.items.transition(
        queued.item.id,
        [ItemStatus.OPEN],
        ItemStatus.OPEN,
        ALICE,
        clock.now,
        of_kind=ItemKind.FEEDBACK,
        kind=ItemKind.BLOCKER,
        moved_from=ItemKind.FEEDBACK,
        last_action="item_to_blockers",
    )

    tick(services.ticker, clock, clock.now + timedelta(minutes=2))
    tick(services.ticker, clock, clock.now + timedelta(minutes=5))

    assert notes(fake, CAROL) == [
        "The feedback you raised in #launch was moved to the blocker queue by @alice: it waits "
        "there until #launch has a project manager:\n>The build server is down"
    ]


@pytest.mark.parametrize("typed", ["ÉCOLE", "Ünïcödé", "Über", "école"])
def test_a_search_finds_non_ascii_capitals_typed_as_filed(
    typed: str, slack: SignedClient, fake: FakeSlack
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/feedback", "Ünïcödé ÉCOLE café, Über", CAROL)
    command(slack, fake, "/feedback", "Something else entirely", CAROL)

    listed = command(slack, fake, "/feedback", f"list {typed}", DAVE)

    assert "#1" in listed and "#2" not in listed
    other = {**cards(fake, ALICE)[-1], "channel": fake.dm_channel(ALICE)}
    slack.click(ALICE, other["channel"], other["ts"], "item_duplicate", item_id(other))
    fake.wait_for(lambda: len(fake.open_views(ALICE)) == 1)
    view = fake.open_views(ALICE)[-1]
    offered = slack.block_suggestion("item_original", "original", typed, ALICE, view).json()
    assert [o["value"] for o in offered["options"]] == ["1"]  # the Duplicate modal's search


@pytest.mark.parametrize("picked", ["closed meanwhile", "itself"])
def test_a_duplicate_modal_refuses_an_original_it_cannot_merge_into_inline(
    picked: str, slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/role", f"<@{ERIN}|erin> product", ALICE)
    original = file_item(slack, fake, ItemKind.FEEDBACK, AUDIT_LOG)
    duplicate = file_item(slack, fake, ItemKind.FEEDBACK, "Something else entirely")
    slack.click(ALICE, duplicate["channel"], duplicate["ts"], "item_duplicate", item_id(duplicate))
    fake.wait_for(lambda: len(fake.open_views(ALICE)) == 1)
    view = fake.open_views(ALICE)[-1]
    target = original if picked == "closed meanwhile" else duplicate
    if picked == "closed meanwhile":  # Erin, product manager too, declines it meanwhile
        erins = next(c for c in cards(fake, ERIN) if item_id(c) == item_id(original))
        declining = {**erins, "channel": fake.dm_channel(ERIN)}
        press(slack, fake, ERIN, declining, "item_decline", {"reason": "Not this year"})
        fake.wait_for(lambda: item_of(services, original).status is ItemStatus.DECLINED)

    response = slack.view_submission(
        view, ALICE, state_values(view, {"item_original": item_id(target)})
    )

    assert response.json() == {
        "response_action": "errors",
        "errors": {"original": "Pick an open item of the same team to merge it into."},
    }
    assert item_of(services, duplicate).status is ItemStatus.OPEN
    assert "Merged into" not in rendered(
        fake, fake.find(duplicate["channel"], duplicate["ts"]) or {}
    )


@pytest.mark.parametrize(
    ("kind", "action", "may_not"),
    [
        (ItemKind.FEEDBACK, "item_duplicate", "merge this into another item"),
        (ItemKind.FEEDBACK, "item_needs_info", "ask about this"),
        (ItemKind.FEEDBACK, "item_reopen", "put this back in the queue"),
        (ItemKind.FEEDBACK, "item_to_blockers", "move this to blockers"),
        (ItemKind.BLOCKER, "item_to_feedback", "move this to feedback"),
        (ItemKind.BLOCKER, "item_reassign", "reassign this"),
    ],
)
def test_a_refusal_says_what_the_button_would_have_done(
    kind: ItemKind, action: str, may_not: str, slack: SignedClient, fake: FakeSlack
) -> None:
    set_up_team(slack, fake)
    card = file_item(slack, fake, kind, "SSO for Acme, the login page is blocked")

    slack.click(CAROL, card["channel"], card["ts"], action, item_id(card))

    fake.wait_for(lambda: len(ephemerals(fake, CAROL)) >= 1)
    role = "product" if kind is ItemKind.FEEDBACK else "project"
    assert (
        ephemerals(fake, CAROL)[-1] == f"Sorry, only the {role} manager of #launch can {may_not}."
    )
