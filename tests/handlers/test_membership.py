"""A team's items show only to people in its channel, as Slack lists it (conversations.members):
in Home, in the modals' search menus and capture, and for whom `/role` gives a role to."""

import json
import logging
from typing import Any

import pytest

from handlers.services import Services
from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient, state_values
from storage.models import ItemKind
from tests.conftest import ALICE, BOB, CAROL, ERIN, TEAM
from tests.handlers.scenario import add_milestone, cards, command, set_up_team
from tests.handlers.test_home import file_feedback, home_click, open_home, seen, select

MOBILE = "CMOBILE"
FRANK = "UFRANK"  # in the workspace, in no channel
TTL = 60.0
NO_SCOPE = (
    "Rolecall could not check who is in #launch: ask an admin to reinstall Rolecall with the "
    "channels:read and groups:read scopes."
)


class Ticks:
    """The membership cache's monotonic clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ticks(services: Services, fake: FakeSlack) -> Ticks:
    """Frank joins the workspace; the cache keeps members by the test's clock."""
    fake.add_user(FRANK, "frank")
    moved = Ticks()
    services.membership.monotonic = moved
    return moved


def leave(fake: FakeSlack, user: str, channel: str, ticks: Ticks) -> None:
    """They leave the channel, and the members kept of it grow stale."""
    fake.channels[channel]["members"].discard(user)
    ticks.now += TTL


def two_teams(slack: SignedClient, fake: FakeSlack) -> None:
    """Alice is the product manager of #launch and #mobile; each has feedback filed."""
    set_up_team(slack, fake)
    fake.add_channel(MOBILE, "mobile", [ALICE, ERIN])
    assert slack.command("/role", f"<@{ALICE}|alice> product", ALICE, MOBILE).status_code == 200
    file_feedback(slack, fake, "SSO for Acme")
    slack.command("/feedback", "Dark mode on mobile", ERIN, MOBILE)
    fake.wait_for(lambda: len(cards(fake, ALICE)) == 2)


def test_a_product_manager_who_left_a_teams_channel_sees_only_their_other_team(
    slack: SignedClient, fake: FakeSlack, ticks: Ticks
) -> None:
    two_teams(slack, fake)
    shown = seen(fake, open_home(slack, fake, ALICE))
    assert "SSO for Acme" in shown and "Dark mode on mobile" in shown

    leave(fake, ALICE, TEAM, ticks)
    view = open_home(slack, fake, ALICE)

    shown = seen(fake, view)
    assert "Dark mode on mobile" in shown and "SSO for Acme" not in shown
    options = [
        option["value"]
        for block in view["blocks"]
        for element in block.get("elements", [])
        for option in element.get("options", [])
    ]
    assert TEAM not in " ".join(options)  # not among the teams to filter by either

    # A Home still filtered to #launch says why it shows every team instead.
    filtered = json.dumps({"team": TEAM, "status": "open", "tag": None, "after": {}})
    action = select("home_filters", "home_status", "open")
    shown = seen(fake, home_click(slack, fake, ALICE, action, metadata=filtered))
    assert "You are not in #launch: showing all your teams." in shown
    assert "SSO for Acme" not in shown


def test_a_team_slack_will_not_list_hides_its_items_and_says_why(
    slack: SignedClient, fake: FakeSlack, ticks: Ticks, caplog: pytest.LogCaptureFixture
) -> None:
    two_teams(slack, fake)
    ticks.now += TTL
    fake.fail_next("conversations.members", "missing_scope")  # #launch: asked first

    with caplog.at_level(logging.WARNING, "bot.membership"):
        shown = seen(fake, open_home(slack, fake, ALICE))

    assert NO_SCOPE in shown
    assert "SSO for Acme" not in shown and "Dark mode on mobile" in shown
    [warning] = [r.getMessage() for r in caplog.records if r.name == "bot.membership"]
    assert TEAM in warning and "missing_scope" in warning and "xoxb" not in warning


def test_two_homes_within_a_minute_ask_slack_once(
    slack: SignedClient, fake: FakeSlack, ticks: Ticks
) -> None:
    set_up_team(slack, fake)  # /role asked who is in #launch
    assert [c["channel"] for c in fake.calls_to("conversations.members")] == [TEAM]

    open_home(slack, fake, ALICE)
    ticks.now += TTL - 1
    open_home(slack, fake, ALICE)
    assert len(fake.calls_to("conversations.members")) == 1

    ticks.now += 1
    open_home(slack, fake, ALICE)
    assert len(fake.calls_to("conversations.members")) == 2


def duplicate_modal(slack: SignedClient, fake: FakeSlack) -> tuple[str, dict[str, Any]]:
    """Alice presses Duplicate on the newer of two feedback items: the older's id, the modal."""
    [original, duplicate] = file_feedback(slack, fake, "Audit log as CSV", "CSV of audit logs")
    card = {**cards(fake, ALICE)[-1], "channel": fake.dm_channel(ALICE)}
    slack.click(ALICE, card["channel"], card["ts"], "item_duplicate", duplicate)
    fake.wait_for(lambda: len(fake.open_views(ALICE)) == 1)
    return original, fake.open_views(ALICE)[-1]


def test_the_originals_a_duplicate_offers_are_only_for_someone_in_the_teams_channel(
    slack: SignedClient, fake: FakeSlack, ticks: Ticks
) -> None:
    set_up_team(slack, fake)
    original, view = duplicate_modal(slack, fake)
    offered = slack.block_suggestion("item_original", "original", "", ALICE, view).json()
    assert [o["value"] for o in offered["options"]] == [original]

    leave(fake, ALICE, TEAM, ticks)

    offered = slack.block_suggestion("item_original", "original", "", ALICE, view).json()
    assert offered["options"] == []


def test_the_milestones_a_capture_offers_are_only_for_someone_in_the_teams_channel(
    slack: SignedClient, fake: FakeSlack, services: Services, ticks: Ticks
) -> None:
    set_up_team(slack, fake)
    beta = add_milestone(slack, fake, services)

    def offered(user: str) -> list[str]:
        slack.global_shortcut("new_item", user)
        fake.wait_for(lambda: len(fake.open_views(user)) == 1)
        view = fake.open_views(user)[-1]
        state = state_values(view, {"capture_kind": "blocker", "team": TEAM})
        answer = slack.block_suggestion(
            "capture_milestone", "milestone", "", user, {**view, "state": {"values": state}}
        )
        return [o["value"] for o in answer.json()["options"]]

    assert offered(CAROL) == [str(beta)]
    assert offered(FRANK) == []


def test_a_capture_into_a_channel_its_filer_is_not_in_is_answered_inline(
    slack: SignedClient, fake: FakeSlack, services: Services, ticks: Ticks
) -> None:
    set_up_team(slack, fake)

    def submit(user: str) -> dict[str, Any]:
        slack.global_shortcut("new_item", user)
        fake.wait_for(lambda: len(fake.open_views(user)) == 1)
        view = fake.open_views(user)[-1]
        answers = {"capture_kind": "feedback", "team": TEAM, "title": "SSO for Acme"}
        answer: dict[str, Any] = slack.view_submission(
            view, user, state_values(view, answers)
        ).json()
        return answer

    assert submit(FRANK) == {
        "response_action": "errors",
        "errors": {"team": "You are not in that channel: pick a channel you are in."},
    }
    ticks.now += TTL
    fake.fail_next("conversations.members", "missing_scope")
    assert submit(CAROL)["errors"] == {"team": NO_SCOPE.replace("#launch", "the team channel")}

    assert len(fake.open_views(FRANK)) == 1 and len(fake.open_views(CAROL)) == 1
    assert services.triage.items.open_queue(TEAM, ItemKind.FEEDBACK) == []
    assert cards(fake, ALICE) == []


def test_a_role_goes_only_to_someone_in_the_channel(
    slack: SignedClient, fake: FakeSlack, services: Services, ticks: Ticks
) -> None:
    set_up_team(slack, fake)

    reply = command(slack, fake, "/role", f"<@{FRANK}|frank> project", ALICE)

    assert reply == (
        "@frank is not in #launch: invite them to the channel first, then give them the role."
    )
    assert FRANK not in {a.user_id for a in services.roles.teams.roles(TEAM)}
    # Invited, they count at once: the members kept of #launch lacked them, so Slack is asked.
    fake.channels[TEAM]["members"].add(FRANK)
    reply = command(slack, fake, "/role", f"<@{FRANK}|frank> project", ALICE)
    assert reply == "@frank is now the project manager of #launch."
    assert {BOB, FRANK} <= {a.user_id for a in services.roles.teams.roles(TEAM)}
