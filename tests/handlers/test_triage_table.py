"""The triage table, row by row, through signed clicks and modal submissions: which statuses a
button applies to, which role may press it, what it asks, and what the reporter hears."""

from datetime import timedelta
from typing import Any

import pytest

from bot.status import TRANSITIONS, Ask, Hears, Transition
from handlers.services import Services
from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient, state_values
from storage.models import Item, ItemKind, ItemStatus
from tests.conftest import ALICE, BOB, CAROL, ERIN, TEAM, FixedClock
from tests.handlers.scenario import (
    add_milestone,
    buttons,
    cards,
    command,
    item_id,
    rendered,
    set_up_team,
)

OWNER = {ItemKind.FEEDBACK: ALICE, ItemKind.BLOCKER: BOB}
ANSWERS: dict[Ask, dict[str, str]] = {
    Ask.REASON: {"reason": "Not on this year's roadmap, <!channel>"},
    Ask.NOTE: {"reason": "Fixed in build 42"},
    Ask.QUESTION: {"reason": "Which plan is Acme on?"},
    Ask.UNTIL: {"until": "2026-12-14"},
    Ask.HOLDER: {"holder": ERIN},
}


def file_item(slack: SignedClient, fake: FakeSlack, kind: ItemKind, text: str) -> dict[str, Any]:
    """Carol raises it with a `kind:` message (so it has a source thread); the owner's card."""
    owner = OWNER[kind]
    before = len(cards(fake, owner))
    slack.say(TEAM, CAROL, f"{kind.value}: {text}")
    fake.wait_for(lambda: len(cards(fake, owner)) > before)
    return {**cards(fake, owner)[-1], "channel": fake.dm_channel(owner)}


def press(
    slack: SignedClient,
    fake: FakeSlack,
    user: str,
    card: dict[str, Any],
    action: str,
    answers: dict[str, str] | None = None,
) -> None:
    """Click the button on the owner's card; answer its modal, if it opens one."""
    before = len(fake.open_views(user))
    response = slack.click(user, card["channel"], card["ts"], action, item_id(card))
    assert response.status_code == 200
    if answers is None:
        return
    fake.wait_for(lambda: len(fake.open_views(user)) > before)
    view = fake.open_views(user)[-1]
    submitted = slack.view_submission(view, user, state_values(view, answers))
    assert submitted.status_code == 200
    assert submitted.content in (b"", b"{}"), submitted.text  # accepted: the modal closes


def item_of(services: Services, card: dict[str, Any]) -> Item:
    found = services.triage.items.get(int(item_id(card)))
    assert found is not None
    return found


def reporter_heard(fake: FakeSlack) -> list[str]:
    """What Carol was told: in the source thread (naming her) or by DM."""
    threaded = [
        fake.readable(m["text"])
        for m in fake.messages.get(TEAM, [])
        if m.get("thread_ts") and m.get("user") == fake.bot_user_id
    ]
    direct = [fake.readable(m["text"]) for m in fake.dms_to(CAROL) if not m["blocks"]]
    return threaded + direct


@pytest.mark.parametrize(  # risks' rows: tests/handlers/test_risk_triage.py
    "transition",
    [t for t in TRANSITIONS.values() if not t.kind.is_risk],
    ids=lambda t: t.action_id,
)
def test_each_row_of_the_triage_table(
    transition: Transition,
    slack: SignedClient,
    fake: FakeSlack,
    services: Services,
    clock: FixedClock,
) -> None:
    set_up_team(slack, fake)
    # Erin holds the role only where she is reassigned to: an owner's own reaction is no +1.
    if transition.ask is Ask.HOLDER:
        command(slack, fake, "/role", f"<@{ERIN}|erin> {transition.role.value}", ALICE)
    owner = OWNER[transition.kind]
    card = file_item(slack, fake, transition.kind, "SSO for Acme, the login page is blocked")
    item = item_of(services, card)
    assert item.id is not None
    start = transition.allowed_from[0]
    if start is not ItemStatus.OPEN:  # a row that starts elsewhere (a snoozed item)
        services.triage.items.transition(item.id, [ItemStatus.OPEN], start, owner, services.clock())
        services.triage.cards.refresh(services.triage.items.get(item.id))  # type: ignore[arg-type]
        card = {**(fake.find(card["channel"], card["ts"]) or card), "channel": card["channel"]}
    if transition.hears is Hears.EVERYONE:
        emoji = "bulb" if transition.kind is ItemKind.FEEDBACK else "no_entry"
        slack.react(TEAM, ERIN, item.source_ts or "", emoji)
        fake.wait_for(lambda: services.triage.items.votes(item.id or 0) == 1)
    assert transition.label in buttons(card)

    # Someone without the owning role is refused, and nothing changes.
    outsider = CAROL
    slack.click(outsider, card["channel"], card["ts"], transition.action_id, item_id(card))
    fake.wait_for(lambda: any("Sorry, only the" in s.text for s in fake.seen_by(outsider)))
    assert item_of(services, card).status is start

    heard_before = len(reporter_heard(fake))
    answers = None if transition.ask is Ask.NOTHING else ANSWERS.get(transition.ask)
    if transition.ask is Ask.ORIGINAL:
        original = file_item(slack, fake, transition.kind, "Single sign-on for the Acme account")
        answers = {"item_original": str(item_of(services, original).id)}
    if transition.ask is Ask.MILESTONE:
        answers = {"plan_milestone": str(add_milestone(slack, fake, services))}
    item = item_of(services, card)
    clock.now += timedelta(minutes=5)
    press(slack, fake, owner, card, transition.action_id, answers)
    fake.wait_for(lambda: item_of(services, card).updated_at != item.updated_at)

    after = item_of(services, card)
    assert after.kind is (transition.moves_to or transition.kind)
    assert after.status is (transition.to or start)
    assert after.handled_by == (owner if transition.to else item.handled_by)  # who triaged it
    if transition.ask is Ask.HOLDER:
        assert after.assignee_id == ERIN
        fake.wait_for(lambda: len(cards(fake, ERIN)) >= 1)
    if transition.moves_to is not None:
        new_owner = OWNER[transition.moves_to]
        fake.wait_for(lambda: any(item_id(c) == str(after.id) for c in cards(fake, new_owner)))
    updated = fake.find(card["channel"], card["ts"])
    assert updated is not None and rendered(fake, updated) != rendered(fake, card)  # it follows
    if transition.moves_to is not None:  # left with someone the item no longer goes to
        assert buttons(updated) == [] and "Moved to the" in rendered(fake, updated)

    if transition.hears is Hears.NOBODY:
        assert len(reporter_heard(fake)) == heard_before
        return
    fake.wait_for(lambda: len(reporter_heard(fake)) > heard_before)
    news = reporter_heard(fake)[-1]
    assert news.startswith("@carol ")  # in the source thread, naming her
    assert f"The {transition.kind.value} you raised" in news or "needs more" in news
    if transition.ask in ANSWERS and transition.ask is not Ask.UNTIL:
        said = ANSWERS[transition.ask]["reason"].replace("<!channel>", "")
        assert said.strip() in news
        assert "<!channel>" not in str(fake.calls_to("chat.postMessage"))
    if transition.ask is Ask.MILESTONE:
        assert "planned by @alice for *Public beta* (due Mon 14 Dec 2026)" in news
        assert after.milestone_id is not None
    if transition.hears is Hears.EVERYONE:
        fake.wait_for(lambda: any("Something you +1'd" in n for n in dm_notes(fake, ERIN)))


def dm_notes(fake: FakeSlack, user: str) -> list[str]:
    return [fake.readable(m["text"]) for m in fake.dms_to(user) if not m["blocks"]]


def test_a_reason_is_required_and_shown_inline(slack: SignedClient, fake: FakeSlack) -> None:
    set_up_team(slack, fake)
    card = file_item(slack, fake, ItemKind.FEEDBACK, "Export invoices as PDF")
    slack.click(ALICE, card["channel"], card["ts"], "item_decline", item_id(card))
    fake.wait_for(lambda: len(fake.open_views(ALICE)) == 1)
    view = fake.open_views(ALICE)[-1]

    response = slack.view_submission(view, ALICE, state_values(view, {"reason": "   "}))

    assert response.json()["response_action"] == "errors"
    assert "reason" in response.json()["errors"]
    assert len(fake.open_views(ALICE)) == 1  # still open, with the error under the field
    assert "Declined" not in rendered(fake, fake.find(card["channel"], card["ts"]) or card)


def test_a_modal_rechecks_the_role_on_submit(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    card = file_item(slack, fake, ItemKind.FEEDBACK, "Export invoices as PDF")
    slack.click(ALICE, card["channel"], card["ts"], "item_decline", item_id(card))
    fake.wait_for(lambda: len(fake.open_views(ALICE)) == 1)
    view = fake.open_views(ALICE)[-1]
    command(slack, fake, "/role", f"remove <@{ALICE}|alice> product", ALICE)

    response = slack.view_submission(view, ALICE, state_values(view, {"reason": "No"}))

    assert response.json()["response_action"] == "errors"
    assert "only the product manager" in str(response.json()["errors"])
    assert item_of(services, card).status is ItemStatus.OPEN


def test_merge_carries_votes_and_the_duplicate_reporter_hears_when_the_original_closes(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    original = file_item(slack, fake, ItemKind.FEEDBACK, "Let admins export the audit log as CSV")
    slack.say(TEAM, ERIN, "feedback: please allow CSV export of audit logs for compliance")
    fake.wait_for(lambda: len(cards(fake, ALICE)) == 2)
    duplicate = {**cards(fake, ALICE)[-1], "channel": fake.dm_channel(ALICE)}
    original_id = item_id(original)

    # The original is offered by what was typed, most +1'd first, to its owners only.
    slack.click(ALICE, duplicate["channel"], duplicate["ts"], "item_duplicate", item_id(duplicate))
    fake.wait_for(lambda: len(fake.open_views(ALICE)) == 1)
    view = fake.open_views(ALICE)[-1]
    offered = slack.block_suggestion("item_original", "original", "audit", ALICE, view).json()
    assert [o["value"] for o in offered["options"]] == [original_id]
    refused = slack.block_suggestion("item_original", "original", "", CAROL, view).json()
    assert refused["options"] == []
    slack.view_submission(view, ALICE, state_values(view, {"item_original": original_id}))

    fake.wait_for(lambda: services.triage.items.votes(int(original_id)) == 1)
    merged = fake.find(duplicate["channel"], duplicate["ts"])
    assert merged is not None and f"Merged into #{original_id}" in rendered(fake, merged)
    fake.wait_for(
        lambda: "+1" in rendered(fake, fake.find(original["channel"], original["ts"]) or {})
    )

    beta = add_milestone(slack, fake, services)
    press(slack, fake, ALICE, original, "item_plan", {"plan_milestone": str(beta)})
    fake.wait_for(lambda: any("Something you +1'd" in n for n in dm_notes(fake, ERIN)))
    assert "planned by @alice for *Public beta*" in dm_notes(fake, ERIN)[-1]


def test_a_snoozed_item_comes_back_on_its_day(
    slack: SignedClient, fake: FakeSlack, services: Services, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    card = file_item(slack, fake, ItemKind.FEEDBACK, "Dark mode for the mobile app")
    press(slack, fake, ALICE, card, "item_snooze", {"until": "2026-12-02"})
    fake.wait_for(lambda: item_of(services, card).status is ItemStatus.SNOOZED)
    assert "Snoozed" in rendered(fake, fake.find(card["channel"], card["ts"]) or card)

    services.ticker.tick(clock.now + timedelta(days=1, hours=4))  # Tue 1 Dec, noon
    assert item_of(services, card).status is ItemStatus.SNOOZED
    services.ticker.tick(clock.now + timedelta(days=2, hours=1, minutes=5))  # Wed 09:05

    assert item_of(services, card).status is ItemStatus.OPEN
    back = fake.find(card["channel"], card["ts"])
    assert back is not None and "Snooze" in buttons(back) and "Snoozed" not in rendered(fake, back)


def test_a_move_to_a_queue_that_has_the_message_is_refused(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    card = file_item(slack, fake, ItemKind.FEEDBACK, "The build server is down")
    source_ts = item_of(services, card).source_ts or ""
    slack.react(TEAM, CAROL, source_ts, "no_entry")
    fake.wait_for(lambda: len(cards(fake, BOB)) == 1)

    press(slack, fake, ALICE, card, "item_to_blockers")

    fake.wait_for(
        lambda: any("already in the blocker queue" in s.text for s in fake.seen_by(ALICE))
    )
    assert item_of(services, card).kind is ItemKind.FEEDBACK


def test_a_second_question_is_asked_too(
    slack: SignedClient, fake: FakeSlack, services: Services, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    card = file_item(slack, fake, ItemKind.FEEDBACK, "Bulk edit for tags")
    press(slack, fake, ALICE, card, "item_needs_info", {"reason": "Which plan is Acme on?"})
    fake.wait_for(lambda: len(reporter_heard(fake)) == 1)
    clock.now += timedelta(minutes=1)
    press(slack, fake, ALICE, card, "item_reopen")
    fake.wait_for(lambda: item_of(services, card).status is ItemStatus.OPEN)
    press(slack, fake, ALICE, card, "item_needs_info", {"reason": "And how many seats?"})

    fake.wait_for(lambda: len(reporter_heard(fake)) == 2)
    assert "*Question:* And how many seats?" in reporter_heard(fake)[-1]


def test_a_replayed_submission_changes_nothing_again(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    card = file_item(slack, fake, ItemKind.FEEDBACK, "Dark mode for the mobile app")
    press(slack, fake, ALICE, card, "item_snooze", {"until": "2026-12-02"})
    fake.wait_for(lambda: item_of(services, card).status is ItemStatus.SNOOZED)
    submitted = slack.last_request
    press(slack, fake, ALICE, card, "item_reopen")
    fake.wait_for(lambda: item_of(services, card).status is ItemStatus.OPEN)

    slack.last_request = submitted
    assert slack.replay().status_code == 200

    assert item_of(services, card).status is ItemStatus.OPEN


@pytest.mark.parametrize(
    "metadata",
    ['{"item": 100000000000000000000, "action": "item_decline"}', "[" * 2900, "null", '"x"'],
)
def test_forged_modal_metadata_is_a_closed_modal_not_a_500(
    slack: SignedClient, fake: FakeSlack, metadata: str
) -> None:
    set_up_team(slack, fake)
    card = file_item(slack, fake, ItemKind.FEEDBACK, "Export invoices as PDF")
    slack.click(ALICE, card["channel"], card["ts"], "item_duplicate", item_id(card))
    view = {**fake_view(fake, ALICE), "private_metadata": metadata}

    submitted = slack.view_submission(view, ALICE, state_values(view, {"item_original": "²"}))
    offered = slack.block_suggestion("item_original", "original", "", ALICE, view)

    assert submitted.status_code == 200 and offered.status_code == 200
    assert offered.json() == {"options": []}


def fake_view(fake: FakeSlack, user: str) -> dict[str, Any]:
    fake.wait_for(lambda: len(fake.open_views(user)) == 1)
    return fake.open_views(user)[-1]


def test_new_feedback_like_an_open_item_offers_a_one_click_merge(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    original = file_item(slack, fake, ItemKind.FEEDBACK, "Let admins export the audit log as CSV")
    unrelated = file_item(slack, fake, ItemKind.FEEDBACK, "Let admins import users from CSV")
    slack.say(TEAM, ERIN, "feedback: let admins export the audit-log as csv!!")
    fake.wait_for(lambda: len(cards(fake, ALICE)) == 3)
    retyped = {**cards(fake, ALICE)[-1], "channel": fake.dm_channel(ALICE)}

    assert "Looks like" not in rendered(fake, unrelated)
    card = rendered(fake, retyped)
    assert f"Looks like *#{item_id(original)}* (0 +1s): Let admins export" in card
    assert buttons(retyped)[0] == "Merge"

    press(slack, fake, ALICE, retyped, "item_merge")

    fake.wait_for(lambda: item_of(services, retyped).status is ItemStatus.DUPLICATE)
    assert item_of(services, retyped).duplicate_of == int(item_id(original))
    assert services.triage.items.voters(int(item_id(original))) == [ERIN]
