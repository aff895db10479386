"""App Home follows the changes that concern its person: each scenario has someone open their
Home, then someone else changes what it shows (a +1, a milestone, a deadline, a handoff, a risk),
and the Home Slack shows them says so without their opening it again."""

import pytest

from handlers.services import Services
from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient, state_values
from storage.models import ItemKind
from tests.conftest import ALICE, BOB, CAROL, ERIN, TEAM, FixedClock
from tests.handlers.scenario import add_milestone, cards, command, item_id, plan, set_up_team, utc
from tests.handlers.test_handoff import file_feedback, modal, open_plan, press, propose, submit
from tests.handlers.test_home import open_home, seen


@pytest.fixture(autouse=True)
def home_now(services: Services) -> None:
    """Home refreshes run at once (no timer to outlive the test)."""
    services.home.schedule = lambda _, work: work()


def home_of(fake: FakeSlack, user: str) -> str:
    """The person's Home as Slack shows it now, as they read it."""
    return seen(fake, fake.home_views[user])


def line_with(fake: FakeSlack, user: str, text: str) -> str:
    """The line of the person's Home that has `text` ("" when none has)."""
    return next((line for line in home_of(fake, user).splitlines() if text in line), "")


def a_second_project_manager(slack: SignedClient, fake: FakeSlack) -> None:
    """Erin is #launch's project manager too: she makes the changes Bob's Home shows."""
    command(slack, fake, "/role", f"<@{ERIN}|erin> project", ALICE)


# A +1 --------------------------------------------------------------------------------------


def test_a_plus_one_shows_in_the_product_managers_home(
    slack: SignedClient, fake: FakeSlack
) -> None:
    set_up_team(slack, fake)
    open_home(slack, fake, ALICE)
    message, _ = slack.say(TEAM, CAROL, "feedback: Export to CSV")
    fake.wait_for(lambda: len(cards(fake, ALICE)) == 1)
    assert "Export to CSV" in home_of(fake, ALICE)  # a new item refreshed it already
    assert "+1" not in line_with(fake, ALICE, "by @carol")

    slack.react(TEAM, ERIN, message["ts"], "bulb")

    fake.wait_for(lambda: "by @carol · +1 ·" in line_with(fake, ALICE, "by @carol"))


def test_a_plus_one_on_planned_feedback_updates_its_why_in_the_project_managers_home(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    beta = add_milestone(slack, fake, services, due="2026-12-09")
    message, _ = slack.say(TEAM, CAROL, "feedback: Export to CSV")
    fake.wait_for(lambda: len(cards(fake, ALICE)) == 1)
    card = cards(fake, ALICE)[0]
    plan(slack, fake, ALICE, fake.dm_channel(ALICE), card["ts"], item_id(card), beta)
    open_home(slack, fake, BOB)
    assert "why: #1 Export to CSV (0 +1s)" in line_with(fake, BOB, "Public beta")

    slack.react(TEAM, ERIN, message["ts"], "bulb")

    fake.wait_for(lambda: "(1 +1)" in line_with(fake, BOB, "Public beta"))


# Milestones --------------------------------------------------------------------------------


def test_a_milestone_added_moved_and_done_shows_in_every_project_managers_home(
    slack: SignedClient, fake: FakeSlack
) -> None:
    set_up_team(slack, fake)
    a_second_project_manager(slack, fake)
    open_home(slack, fake, BOB)
    assert line_with(fake, BOB, "Public beta") == ""

    command(slack, fake, "/milestone", "add Public beta 2026-12-09", ERIN)
    fake.wait_for(lambda: "Wed 9 Dec 2026" in line_with(fake, BOB, "Public beta"))

    command(slack, fake, "/milestone", "move Public beta 2026-12-11", ERIN)
    fake.wait_for(lambda: "Fri 11 Dec 2026" in line_with(fake, BOB, "Public beta"))

    command(slack, fake, "/milestone", "done Public beta", ERIN)
    fake.wait_for(lambda: line_with(fake, BOB, "Public beta") == "")


def test_a_milestone_done_shows_in_its_themes_progress_in_the_product_managers_home(
    slack: SignedClient, fake: FakeSlack
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/milestone", "add Public beta 2026-12-09", BOB)
    command(slack, fake, "/roadmap", "add Onboarding 2026-Q4", ALICE)
    command(slack, fake, "/roadmap", "link Onboarding Public beta", ALICE)
    open_home(slack, fake, ALICE)
    assert "Onboarding in #launch — 0 of 1 milestone done" in home_of(fake, ALICE)

    command(slack, fake, "/milestone", "done Public beta", BOB)

    fake.wait_for(lambda: "Onboarding in #launch — 1 of 1 milestone done" in home_of(fake, ALICE))


# Deadlines ---------------------------------------------------------------------------------


def test_a_deadline_set_and_done_shows_in_the_assignees_home(
    slack: SignedClient, fake: FakeSlack
) -> None:
    set_up_team(slack, fake)
    open_home(slack, fake, CAROL)
    assert "Your open deadlines\n_None._" in home_of(fake, CAROL)

    command(slack, fake, "/deadline", f"Write the launch post 2026-12-03 <@{CAROL}|carol>", BOB)
    fake.wait_for(lambda: "Write the launch post in #launch" in home_of(fake, CAROL))

    command(slack, fake, "/deadline", "done Write the launch post", BOB)
    fake.wait_for(lambda: "Your open deadlines\n_None._" in home_of(fake, CAROL))


def test_an_overdue_deadline_done_leaves_the_project_managers_home(
    slack: SignedClient, fake: FakeSlack, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/deadline", f"Write the launch post 2026-12-01 <@{CAROL}|carol>", BOB)
    clock.now = utc(12, 3, 9)
    open_home(slack, fake, BOB)
    assert "Write the launch post: @carol in #launch" in line_with(fake, BOB, "launch post")

    command(slack, fake, "/deadline", "done Write the launch post", CAROL)

    fake.wait_for(lambda: "Overdue deadlines\n_None._" in home_of(fake, BOB))


# Handoffs ----------------------------------------------------------------------------------


def test_an_accepted_new_milestone_shows_in_every_project_managers_home(
    slack: SignedClient, fake: FakeSlack
) -> None:
    set_up_team(slack, fake)
    a_second_project_manager(slack, fake)
    card = file_feedback(slack, fake)
    bobs = propose(slack, fake, card, due="2026-12-10")
    open_home(slack, fake, ERIN)
    assert line_with(fake, ERIN, "Public beta") == ""

    press(slack, fake, BOB, bobs, "handoff_accept_milestone")
    submit(slack, fake, modal(fake, BOB, "handoff_accept"), BOB, {"due": "2026-12-10"})

    fake.wait_for(lambda: "Thu 10 Dec 2026" in line_with(fake, ERIN, "Public beta"))
    assert "why: #1 Export to CSV (1 +1)" in line_with(fake, ERIN, "Public beta")


def test_a_new_milestone_a_founder_plans_shows_in_the_other_project_managers_home(
    slack: SignedClient, fake: FakeSlack
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/role", f"<@{ALICE}|alice> project", ALICE)  # both roles
    card = file_feedback(slack, fake)
    open_home(slack, fake, BOB)

    view = open_plan(slack, fake, card)
    submit(slack, fake, view, ALICE, {"name": "Public beta", "due": "2026-12-10"})

    fake.wait_for(lambda: "Thu 10 Dec 2026" in line_with(fake, BOB, "Public beta"))


# Risks -------------------------------------------------------------------------------------


def test_a_high_market_risk_puts_the_milestone_at_risk_in_the_project_managers_home(
    slack: SignedClient, fake: FakeSlack
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/milestone", "add Public beta 2026-12-09", BOB)
    open_home(slack, fake, BOB)
    assert "at risk" not in line_with(fake, BOB, "Public beta")
    slack.global_shortcut("new_item", CAROL)
    fake.wait_for(lambda: len(fake.open_views(CAROL)) == 1)
    view = fake.open_views(CAROL)[-1]
    typed = {"title": "Pricing pressure", "team": TEAM, "details": "Globex wants a discount"}
    slack.view_click(CAROL, view, "capture_kind", "risk", values=state_values(view, typed))
    fake.wait_for(
        lambda: any(b.get("block_id") == "likelihood" for b in fake.open_views(CAROL)[-1]["blocks"])
    )
    view = fake.open_views(CAROL)[-1]
    state = state_values(view, {**typed, "capture_kind": "risk"})
    [beta] = slack.block_suggestion(
        "capture_milestone", "milestone", "", CAROL, {**view, "state": {"values": state}}
    ).json()["options"]
    answers = {
        **typed,
        "capture_kind": "risk",
        "risk_kind": ItemKind.MARKET_RISK.value,
        "likelihood": "high",
        "impact": "high",
        "capture_milestone": beta["value"],
    }

    slack.view_submission(view, CAROL, state_values(view, answers))

    fake.wait_for(lambda: "at risk: 1 high risk" in line_with(fake, BOB, "Public beta"))
