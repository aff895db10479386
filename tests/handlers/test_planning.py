"""Milestones and deadlines through their commands: who may plan, what a bad input gets, and
blockers that put a milestone at risk."""

import pytest

from bot.tick import Ticker
from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient
from tests.conftest import ALICE, BOB, CAROL, DAVE, ERIN, FixedClock
from tests.handlers.scenario import (
    command,
    nudges,
    set_up_team,
    tick,
    utc,
)


def test_milestone_lifecycle_by_the_project_manager(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker
) -> None:
    set_up_team(slack, fake)

    added = command(slack, fake, "/milestone", f"add Public beta 2026-12-02 <@{CAROL}|carol>", BOB)
    listed = command(slack, fake, "/milestone", "list", ERIN)
    moved = command(slack, fake, "/milestone", "move public  BETA 2026-12-09", BOB)
    done = command(slack, fake, "/milestone", "done Public beta", BOB)

    assert added == (
        "Milestone *Public beta* added for Wed 2 Dec 2026, owned by @carol. I'll remind #launch "
        "on Tue 1 Dec 2026 and Wed 2 Dec 2026 at 09:00 UTC (working days: mon-fri, 09:00 to "
        "17:00). If it slips, @carol hears by DM daily for a week, then weekly; the project "
        "managers once, then weekly."
    )
    assert listed == "Open milestones in #launch:\n• *Public beta* — Wed 2 Dec 2026 · @carol"
    assert moved == (
        "Milestone *Public beta* moved from Wed 2 Dec 2026 to Wed 9 Dec 2026; its reminders "
        "follow the new date."
    )
    assert done == "Milestone *Public beta* is done. :tada: No more reminders for it."
    assert command(slack, fake, "/milestone", "", ERIN).startswith("#launch has no open milestones")


def test_only_project_managers_and_admins_plan_once_there_is_one(
    slack: SignedClient, fake: FakeSlack
) -> None:
    # No project manager yet: anyone may add.
    assert "added" in command(slack, fake, "/milestone", "add Alpha 2026-12-02", ERIN)
    set_up_team(slack, fake)

    refused = command(slack, fake, "/milestone", "add Beta 2026-12-03", ALICE)  # product manager
    assert refused.startswith("Sorry, only the project manager of #launch (or a workspace admin)")
    assert "added" in command(slack, fake, "/milestone", "add Beta 2026-12-03", DAVE)  # admin
    listed = command(slack, fake, "/milestone", "list", ERIN)
    assert "*Alpha*" in listed and "*Beta*" in listed


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("add Beta 2026-11-29", "Sun 29 Nov 2026 is in the past (today is Mon 30 Nov 2026"),
        ("add Beta 2026-02-30", "`2026-02-30` is not a date on the calendar: use YYYY-MM-DD."),
        ("add Beta", "Usage: `/milestone add <name> <YYYY-MM-DD> [@owner]`"),
        (
            "move Gamma 2026-12-10",
            "#launch has no open milestone called *Gamma*. Open ones: *Beta*.",
        ),
        ("done Gamma", "#launch has no open milestone called *Gamma*"),
        ("add beta 2026-12-10", "#launch already has a milestone called *beta*"),
        ("add Launch 2026-12-10 <@UROLECALL>", "@rolecall can't own a milestone: pick a person."),
        ("add Launch 2026-12-10 <@UNOBODY>", "I can't find @UNOBODY in this workspace."),
    ],
)
def test_bad_milestone_input_gets_a_usage_reply_and_changes_nothing(
    slack: SignedClient, fake: FakeSlack, text: str, reply: str
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/milestone", "add Beta 2026-12-05", BOB)

    assert command(slack, fake, "/milestone", text, BOB).startswith(reply)
    assert command(slack, fake, "/milestone", "list", BOB) == (
        "Open milestones in #launch:\n• *Beta* — Sat 5 Dec 2026"
    )


def test_a_blocker_naming_a_milestone_puts_it_at_risk(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/milestone", "add Public beta 2026-12-01", BOB)

    confirmation = command(slack, fake, "/blocker", "API keys missing #public beta", CAROL)

    assert confirmation.endswith("Linked to milestone *Public beta*, which is now at risk.")
    assert command(slack, fake, "/milestone", "list", BOB).endswith(
        "*Public beta* — Tue 1 Dec 2026 · :warning: *at risk*: 1 open blocker"
    )
    tick(ticker, clock, utc(11, 30, 9))
    assert nudges(fake)[-1] == (
        ":calendar: Milestone *Public beta* is due tomorrow (Tue 1 Dec 2026) · :warning: "
        "*at risk*: 1 open blocker"
    )


def test_deadline_list_and_who_may_close_it(slack: SignedClient, fake: FakeSlack) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/deadline", "Spec review 2026-12-03", CAROL)
    assert command(slack, fake, "/deadline", "list", ERIN) == (
        "Open deadlines in #launch:\n• `1` *Spec review* — Thu 3 Dec 2026 · @carol"
    )
    assert command(slack, fake, "/deadline", "done 1", ERIN).startswith("Sorry, only the project")
    assert command(slack, fake, "/deadline", "done 7", CAROL).startswith(
        "#launch has no open deadline `7`"
    )
    assert command(slack, fake, "/deadline", "done spec REVIEW", BOB).startswith("Deadline *Spec")


def test_closing_a_milestone_still_in_the_way_of_something_says_what_stays_open(
    slack: SignedClient, fake: FakeSlack
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/milestone", "add Public beta 2026-12-09", BOB)
    command(slack, fake, "/blocker", "Signing keys are missing #Public beta", CAROL)

    done = command(slack, fake, "/milestone", "done Public beta", BOB)

    assert done == (
        "Milestone *Public beta* is done. :tada: No more reminders for it. Still open, and not "
        "closed by this: 1 open blocker."
    )
