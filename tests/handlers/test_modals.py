"""Capture with details (message and global shortcuts, their modal and its checks), triage from
App Home, and a role taken over a backlog."""

from typing import Any

import pytest

from handlers.services import Services
from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient, state_values
from storage.models import ItemKind, Level
from tests.conftest import ALICE, BOB, CAROL, ERIN, TEAM
from tests.handlers.scenario import (
    add_milestone,
    cards,
    command,
    ephemerals,
    notes,
    rendered,
    set_up_team,
)
from tests.handlers.test_triage_table import press


@pytest.fixture(autouse=True)
def home_now(services: Services) -> None:
    """Home refreshes run at once (no timer to outlive the test)."""
    services.home.schedule = lambda _, work: work()


def modal_of(fake: FakeSlack, user: str, opened_before: int = 0) -> dict[str, Any]:
    fake.wait_for(lambda: len(fake.open_views(user)) > opened_before)
    return fake.open_views(user)[-1]


def test_a_message_shortcut_files_feedback_with_its_details(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    quote, _ = slack.say(TEAM, ERIN, "Globex: exports time out over 10k rows\nthey need it by Q2")

    slack.message_shortcut("send_to_product_queue", CAROL, TEAM, quote)
    view = modal_of(fake, CAROL)
    prefilled = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert prefilled["kind"]["initial_option"]["value"] == "feedback"
    assert prefilled["team"]["initial_conversation"] == TEAM
    assert prefilled["title"]["initial_value"] == "Globex: exports time out over 10k rows"
    response = slack.view_submission(
        view,
        CAROL,
        state_values(
            view,
            {
                "capture_kind": "feedback",
                "team": TEAM,
                "title": "Exports time out over 10k rows",
                "details": quote["text"],
                "customer": "Globex",
                "impact": "high",
            },
        ),
    )

    assert response.status_code == 200 and fake.open_views(CAROL) == []
    fake.wait_for(lambda: len(cards(fake, ALICE)) == 1)
    card = rendered(fake, cards(fake, ALICE)[0])
    assert "*Exports time out over 10k rows*" in card
    assert "customer: Globex" in card and "impact: high" in card and "written by @erin" in card
    [item] = services.triage.items.open_queue(TEAM, ItemKind.FEEDBACK)
    assert item.item.impact is Level.HIGH and item.item.source_ts == quote["ts"]
    fake.wait_for(lambda: any("Filed in #launch" in s for s in ephemerals(fake, CAROL)))
    stored = services.triage.items.get(item.item.id or 0)
    linked = services.capture.client.chat_getPermalink(channel=TEAM, message_ts=quote["ts"])
    assert stored is not None and stored.permalink == linked["permalink"]


@pytest.mark.parametrize(("where", "in_thread"), [(TEAM, True), ("CQUEUE", False)])
def test_a_shortcuts_reporter_hears_in_the_source_thread_only_in_the_teams_own_channel(
    slack: SignedClient, fake: FakeSlack, where: str, in_thread: bool
) -> None:
    """As for a reaction, the thread of a message in the team's channel is where its reporter
    hears back; a message elsewhere gets a DM (a team's triage never goes into another
    channel)."""
    set_up_team(slack, fake)
    quote = fake.user_message(where, ERIN, "Exports time out over 10k rows")
    slack.message_shortcut("send_to_product_queue", CAROL, where, quote)
    view = modal_of(fake, CAROL)
    slack.view_submission(
        view,
        CAROL,
        state_values(view, {"capture_kind": "feedback", "team": TEAM, "title": "Slow exports"}),
    )
    fake.wait_for(lambda: len(cards(fake, ALICE)) == 1)
    card = {**cards(fake, ALICE)[0], "channel": fake.dm_channel(ALICE)}

    press(slack, fake, ALICE, card, "item_decline", {"reason": "Exports move to the API"})

    def replies() -> list[str]:
        return [
            fake.readable(m["text"])
            for m in fake.messages[where]
            if m.get("thread_ts") == quote["ts"] and m["user"] == fake.bot_user_id
        ]

    def heard() -> list[str]:
        return [*replies(), *(n for n in notes(fake, CAROL) if "declined" in n)]

    fake.wait_for(lambda: len(heard()) == 1)
    [notice] = heard()
    assert "Exports move to the API" in notice
    assert notice.startswith("@carol ") is in_thread  # in the thread it names her
    assert (replies() == [notice]) is in_thread
    if not in_thread:
        assert [m for m in fake.messages[where] if m["user"] == fake.bot_user_id] == []


def test_flag_as_blocker_files_a_blocker_with_its_severity_and_milestone(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    beta = add_milestone(slack, fake, services)
    quote, _ = slack.say(TEAM, ERIN, "Staging is down since the deploy\nnobody can test")

    slack.message_shortcut("flag_as_blocker", CAROL, TEAM, quote)
    view = modal_of(fake, CAROL)
    fields = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert fields["kind"]["initial_option"]["value"] == "blocker"
    assert fields["team"]["initial_conversation"] == TEAM
    assert fields["title"]["initial_value"] == "Staging is down since the deploy"
    assert [o["value"] for o in fields["severity"]["options"]] == ["low", "medium", "high"]
    assert fields["milestone"]["type"] == "external_select"
    state = state_values(view, {"capture_kind": "blocker", "team": TEAM})
    offered = slack.block_suggestion(
        "capture_milestone", "milestone", "", CAROL, {**view, "state": {"values": state}}
    )
    assert [o["value"] for o in offered.json()["options"]] == [str(beta)]
    answers = {
        "capture_kind": "blocker",
        "team": TEAM,
        "title": "Staging is down",
        "details": quote["text"],
        "severity": "high",
        "capture_milestone": str(beta),
    }
    response = slack.view_submission(view, CAROL, state_values(view, answers))

    assert response.status_code == 200 and fake.open_views(CAROL) == []
    fake.wait_for(lambda: len(cards(fake, BOB)) == 1)
    assert "severity: high" in rendered(fake, cards(fake, BOB)[0])
    [blocker] = services.triage.items.open_queue(TEAM, ItemKind.BLOCKER)
    assert blocker.item.severity is Level.HIGH and blocker.item.milestone_id == beta
    assert blocker.item.source_ts == quote["ts"] and blocker.item.title == "Staging is down"
    fake.wait_for(
        lambda: any("Linked to milestone *Public beta*" in s for s in ephemerals(fake, CAROL))
    )


def test_the_same_message_by_shortcut_and_reaction_is_one_item_and_a_plus_one(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    quote, _ = slack.say(TEAM, ERIN, "Dark mode on mobile, please")
    slack.react(TEAM, ERIN, quote["ts"], "bulb")
    fake.wait_for(lambda: len(cards(fake, ALICE)) == 1)

    slack.message_shortcut("send_to_product_queue", CAROL, TEAM, quote)
    view = modal_of(fake, CAROL)
    slack.view_submission(
        view,
        CAROL,
        state_values(view, {"capture_kind": "feedback", "team": TEAM, "title": "Dark mode"}),
    )

    fake.wait_for(lambda: any("I counted your +1" in s for s in ephemerals(fake, CAROL)))
    assert len(cards(fake, ALICE)) == 1
    [item] = services.triage.items.open_queue(TEAM, ItemKind.FEEDBACK)
    assert item.votes == 1


def test_a_submission_without_a_title_or_with_a_dm_for_a_team_is_answered_inline(
    slack: SignedClient, fake: FakeSlack
) -> None:
    set_up_team(slack, fake)
    slack.global_shortcut("new_item", CAROL)
    view = modal_of(fake, CAROL)

    response = slack.view_submission(
        view, CAROL, state_values(view, {"team": fake.dm_channel(CAROL), "title": "  "})
    )

    assert response.json()["response_action"] == "errors"
    assert set(response.json()["errors"]) == {"kind", "team", "title"}
    assert len(fake.open_views(CAROL)) == 1 and cards(fake, ALICE) == []


def test_the_global_shortcut_swaps_in_the_fields_of_the_kind_picked(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/milestone", "add Public beta 2026-12-20", BOB)
    slack.global_shortcut("new_item", CAROL)
    view = modal_of(fake, CAROL)
    typed = {"title": "Staging is down", "team": TEAM}

    slack.view_click(CAROL, view, "capture_kind", "blocker", values=state_values(view, typed))
    fake.wait_for(
        lambda: any(b.get("block_id") == "severity" for b in fake.open_views(CAROL)[-1]["blocks"])
    )
    view = fake.open_views(CAROL)[-1]
    state = state_values(view, {**typed, "capture_kind": "blocker"})
    offered = slack.block_suggestion(
        "capture_milestone", "milestone", "beta", CAROL, {**view, "state": {"values": state}}
    )
    [beta] = offered.json()["options"]
    assert beta["text"]["text"].startswith("Public beta")
    slack.view_submission(
        view,
        CAROL,
        state_values(
            view,
            {
                **typed,
                "capture_kind": "blocker",
                "severity": "high",
                "capture_milestone": beta["value"],
            },
        ),
    )

    fake.wait_for(lambda: len(cards(fake, BOB)) == 1)
    assert "severity: high" in rendered(fake, cards(fake, BOB)[0])
    [blocker] = services.triage.items.open_queue(TEAM, ItemKind.BLOCKER)
    assert blocker.item.milestone_id == int(beta["value"]) and blocker.item.source_ts is None


def test_a_submission_sent_twice_files_once(slack: SignedClient, fake: FakeSlack) -> None:
    set_up_team(slack, fake)
    slack.global_shortcut("new_item", CAROL)
    view = modal_of(fake, CAROL)
    answers = state_values(view, {"capture_kind": "feedback", "team": TEAM, "title": "SSO"})

    slack.view_submission(view, CAROL, answers)
    slack.replay()

    fake.wait_for(lambda: len(cards(fake, ALICE)) == 1)
    assert len(cards(fake, ALICE)) == 1


def test_triage_from_home_applies_and_refreshes_home(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/feedback", "Bulk edit for tags", CAROL)
    fake.wait_for(lambda: len(cards(fake, ALICE)) == 1)
    services.home.publish(ALICE)
    home = fake.home_views[ALICE]
    plan = next(
        e
        for b in home["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e.get("action_id") == "item_plan"
    )
    published = len(fake.calls_to("views.publish"))
    beta = add_milestone(slack, fake, services)

    slack.view_click(ALICE, home, "item_plan", plan["value"])
    view = modal_of(fake, ALICE)
    slack.view_submission(view, ALICE, state_values(view, {"plan_milestone": str(beta)}))

    fake.wait_for(lambda: len(notes(fake, CAROL)) == 1)
    fake.wait_for(lambda: len(fake.calls_to("views.publish")) > published)
    assert "Bulk edit for tags" not in str(fake.home_views[ALICE]["blocks"])  # no longer open
    assert "*Planned* by @alice" in rendered(fake, cards(fake, ALICE)[0])

    decline = next(
        e
        for b in home["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e.get("action_id") == "item_decline"
    )
    slack.view_click(ALICE, home, "item_decline", decline["value"])  # planned since: told by DM
    fake.wait_for(lambda: any("Already planned" in n for n in notes(fake, ALICE)))


def test_a_role_taken_over_a_backlog_is_one_message(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    command(slack, fake, "/role", f"<@{BOB}|bob> project", BOB)
    for number in range(12):
        slack.command("/feedback", f"idea {number}", CAROL, TEAM)

    reply = command(slack, fake, "/role", f"<@{ALICE}|alice> product", BOB)

    assert reply.endswith("12 items waited for the role: I told them in one message.")
    fake.wait_for(lambda: len(fake.dms_to(ALICE)) >= 2)
    assert cards(fake, ALICE) == []
    waiting = [n for n in notes(fake, ALICE) if "waited" in n]
    assert waiting == [
        "12 feedback items in #launch waited for a product manager and are yours now. Work "
        "through them in Rolecall's *Home* tab (oldest first), or with `/feedback list`."
    ]
    services.ticker.tick(services.clock())  # the time loop does not card them one by one
    assert cards(fake, ALICE) == []


def test_a_modal_opens_while_a_burst_of_cards_waits_on_a_slow_slack(
    wire: SignedClient, fake: FakeSlack
) -> None:
    """Over the wire, as served: every after-ack thread is stuck posting a card to a Slack that
    does not answer, and a shortcut's modal still opens (it has 3 s, and its own pool)."""
    set_up_team(wire, fake)
    stuck = fake.hold("chat.postMessage")
    try:
        for number in range(24):  # more than the after-ack threads
            assert wire.command("/feedback", f"idea {number}", CAROL, TEAM).status_code == 200
        quote = fake.user_message(TEAM, ERIN, "Globex: exports time out over 10k rows")

        wire.message_shortcut("send_to_product_queue", CAROL, TEAM, quote)

        fake.wait_for(lambda: len(fake.open_views(CAROL)) == 1, timeout=3.0)
    finally:
        stuck.set()
    fake.wait_for(lambda: len(cards(fake, ALICE)) == 24)
