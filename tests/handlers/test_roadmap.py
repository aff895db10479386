"""`/roadmap`: themes by quarter, the milestones that deliver them and their state, changed by
the product manager only, each team's its own."""

import pytest

from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient
from tests.conftest import ALICE, BOB, CAROL, DAVE, ERIN, FixedClock
from tests.handlers.scenario import command, ephemerals, set_up_team, utc

OTHER = "COTHER"


def roadmap(slack: SignedClient, fake: FakeSlack, text: str, user: str = ALICE) -> str:
    return command(slack, fake, "/roadmap", text, user)


def test_the_product_manager_plans_quarters_and_anyone_reads_the_roadmap(
    slack: SignedClient, fake: FakeSlack
) -> None:
    set_up_team(slack, fake)
    for milestone in ("Public beta 2026-12-09", "Pricing page 2026-12-01", "GA 2027-01-20"):
        command(slack, fake, "/milestone", f"add {milestone}", BOB)
    command(slack, fake, "/milestone", "add Invoices 2027-02-10", BOB)
    command(slack, fake, "/milestone", "done Pricing page", BOB)
    command(slack, fake, "/blocker", "Signing keys missing #Public beta", CAROL)

    added = roadmap(slack, fake, 'add "Self-serve onboarding" 2026-Q4')
    assert added == (
        "Theme *Self-serve onboarding* is on #launch's roadmap for 2026-Q4. Link the milestones "
        'that deliver it: `/roadmap link "Self-serve onboarding" <milestone>`.'
    )
    assert "2027-Q1" in roadmap(slack, fake, "add Enterprise  readiness q1 2027")
    assert "2027-Q2" in roadmap(slack, fake, "add “Billing” 2027Q2")
    linked = [
        roadmap(slack, fake, 'link "Self-serve onboarding" public BETA'),
        roadmap(slack, fake, "link Self-serve onboarding Pricing page"),  # unquoted: still found
        roadmap(slack, fake, 'link "Self-serve onboarding" GA'),
        roadmap(slack, fake, "link enterprise readiness Invoices"),
    ]
    assert linked[0] == "Milestone *Public beta* now delivers *Self-serve onboarding* (2026-Q4)."
    assert linked[2] == (
        "Milestone *GA* now delivers *Self-serve onboarding* (2026-Q4). :warning: It is due "
        "Wed 20 Jan 2027, after 2026-Q4 ends (Thu 31 Dec 2026): it shows as slipped until it "
        "moves."
    )
    assert linked[3] == "Milestone *Invoices* now delivers *Enterprise readiness* (2027-Q1)."

    shown = roadmap(slack, fake, "", ERIN)

    assert shown.splitlines() == [
        "*Roadmap of #launch*: 3 themes from 2026-Q4 on (and earlier ones while they have open "
        "milestones).",
        ":spiral_calendar_pad: *2026-Q4* (this quarter)",
        "*Self-serve onboarding* — 1/3 done",
        "• *Pricing page* — Tue 1 Dec 2026 · :white_check_mark: done",
        "• *Public beta* — Wed 9 Dec 2026 · :warning: at risk",
        "• *GA* — Wed 20 Jan 2027 · :rotating_light: slipped (due after 2026-Q4 ends)",
        ":spiral_calendar_pad: *2027-Q1*",
        "*Enterprise readiness* — 0/1 done",
        "• *Invoices* — Wed 10 Feb 2027 · :large_green_circle: on track",
        ":spiral_calendar_pad: *2027-Q2*",
        '*Billing* — no milestones deliver it yet: `/roadmap link "Billing" <milestone>`',
    ]


def test_old_quarters_stay_while_they_have_open_milestones_and_overdue_ones_slip(
    slack: SignedClient, fake: FakeSlack, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/milestone", "add Beta 2026-12-09", BOB)
    command(slack, fake, "/milestone", "add Alpha 2026-12-02", BOB)
    roadmap(slack, fake, "add Onboarding 2026-Q4")
    roadmap(slack, fake, "add Finished 2026-Q4")
    roadmap(slack, fake, 'link "Onboarding" Beta')
    roadmap(slack, fake, 'link "Finished" Alpha')
    command(slack, fake, "/milestone", "done Alpha", BOB)

    clock.now = utc(1, 5, 9, year=2027)
    shown = roadmap(slack, fake, "", CAROL)

    assert (
        "*Onboarding* — 0/1 done\n• *Beta* — Wed 9 Dec 2026 · :rotating_light: slipped "
        "(overdue)" in shown
    )
    assert "Finished" not in shown  # all done, and its quarter is over
    assert shown.startswith("*Roadmap of #launch*: 1 theme from 2027-Q1 on")


def test_only_the_product_manager_changes_the_roadmap(slack: SignedClient, fake: FakeSlack) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/milestone", "add Beta 2026-12-09", BOB)
    roadmap(slack, fake, "add Onboarding 2026-Q4")

    for outsider in (BOB, DAVE, ERIN):  # the project manager, a workspace admin, anyone
        for text in (
            "add Billing 2027-Q1",
            "link Onboarding Beta",
            "unlink Beta",
            "remove Onboarding",
        ):
            assert roadmap(slack, fake, text, outsider) == (
                "Sorry, only the product manager of #launch can change its roadmap."
            )
    assert roadmap(slack, fake, "", ERIN).splitlines()[1:] == [
        ":spiral_calendar_pad: *2026-Q4* (this quarter)",
        '*Onboarding* — no milestones deliver it yet: `/roadmap link "Onboarding" <milestone>`',
    ]


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("help", "Usage: `/roadmap` shows this channel's themes by quarter;"),
        ("frobnicate", "Usage: `/roadmap`"),
        ("add Billing", "`Billing` is not a quarter: end with one like `2027-Q1`."),
        ("add 2027-Q1", "Usage: `/roadmap`"),
        ("add Billing 2027-Q5", "`2027-Q5` is not a quarter"),
        ("add Billing 2026-Q3", "2026-Q3 is over (it is 2026-Q4 in #launch's time zone)"),
        (
            "add Far 9999-Q4",
            "9999-Q4 is too far out: a roadmap here reaches 5 years ahead, to 2031.",
        ),
        ("add onboarding 2027-Q2", "#launch already has a theme called *onboarding* (2026-Q4)."),
        ("link Onboarding", "Usage: `/roadmap`"),
        ('link "Nope" Beta', "#launch has no theme called *Nope*. Themes: *Onboarding*."),
        (
            "link No such theme Beta",
            "I can't tell which theme of #launch you mean: put it in quotes",
        ),
        ('link "Onboarding" Gamma', "#launch has no milestone called *Gamma*. Open ones: *Beta*."),
        ("unlink Gamma", "#launch has no milestone called *Gamma*."),
        ('remove "Nope"', "#launch has no theme called *Nope*."),
    ],
)
def test_bad_roadmap_input_gets_a_usage_reply_and_changes_nothing(
    slack: SignedClient, fake: FakeSlack, text: str, reply: str
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/milestone", "add Beta 2026-12-09", BOB)
    roadmap(slack, fake, "add Onboarding 2026-Q4")
    before = roadmap(slack, fake, "")

    assert roadmap(slack, fake, text).startswith(reply)
    assert roadmap(slack, fake, "") == before


def test_unlink_and_remove_free_the_milestones(slack: SignedClient, fake: FakeSlack) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/milestone", "add Beta 2026-12-09", BOB)
    command(slack, fake, "/milestone", "add GA 2026-12-20", BOB)
    roadmap(slack, fake, "add Onboarding 2026-Q4")
    roadmap(slack, fake, "add Growth 2026-Q4")
    roadmap(slack, fake, 'link "Onboarding" Beta')
    roadmap(slack, fake, 'link "Onboarding" GA')

    assert roadmap(slack, fake, 'link "Growth" GA') == (
        "Milestone *GA* now delivers *Growth* (2026-Q4). It no longer delivers *Onboarding*."
    )
    assert roadmap(slack, fake, "unlink ga") == "Milestone *GA* no longer delivers *Growth*."
    assert roadmap(slack, fake, "unlink GA") == "Milestone *GA* delivers no theme."
    assert roadmap(slack, fake, 'remove "onboarding"') == (
        "Theme *Onboarding* (2026-Q4) is off the roadmap; 1 milestone no longer delivers it."
    )
    assert "*Theme:*" not in command(slack, fake, "/milestone", "show Beta", CAROL)
    assert roadmap(slack, fake, "", CAROL).splitlines()[2:] == [
        '*Growth* — no milestones deliver it yet: `/roadmap link "Growth" <milestone>`',
    ]


def test_another_teams_roadmap_and_milestones_never_show(
    slack: SignedClient, fake: FakeSlack
) -> None:
    set_up_team(slack, fake)
    fake.add_channel(OTHER, "other", [ALICE, BOB, CAROL])
    in_other(slack, fake, "/role", f"<@{ALICE}> product", ALICE)
    in_other(slack, fake, "/milestone", "add Secret launch 2026-12-09", BOB)
    assert "2027-Q1" in in_other(slack, fake, "/roadmap", "add Secret plan 2027-Q1", ALICE)
    command(slack, fake, "/milestone", "add Beta 2026-12-09", BOB)
    roadmap(slack, fake, "add Onboarding 2026-Q4")

    assert roadmap(slack, fake, 'link "Onboarding" Secret launch').startswith(
        "#launch has no milestone called *Secret launch*. Open ones: *Beta*."
    )
    assert roadmap(slack, fake, 'link "Secret plan" Beta') == (
        "#launch has no theme called *Secret plan*. Themes: *Onboarding*."
    )
    shown = roadmap(slack, fake, "", CAROL)
    assert "Secret" not in shown and "*Onboarding*" in shown
    assert "*Secret plan*" in in_other(slack, fake, "/roadmap", "", CAROL)


def in_other(slack: SignedClient, fake: FakeSlack, name: str, text: str, user: str) -> str:
    """A command in another team's channel, and what its author saw."""
    before = len(ephemerals(fake, user))
    assert slack.command(name, text, user, OTHER).status_code == 200
    fake.wait_for(lambda: len(ephemerals(fake, user)) > before)
    return ephemerals(fake, user)[-1]


def test_this_quarter_is_the_teams_own(
    slack: SignedClient, fake: FakeSlack, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/rolecall", "timezone Pacific/Kiritimati", ALICE)  # UTC+14
    clock.now = utc(12, 31, 12)  # already 1 January 2027 there

    assert roadmap(slack, fake, "add Late 2026-Q4") == (
        "2026-Q4 is over (it is 2027-Q1 in #launch's time zone): pick this quarter or a later one."
    )
    assert roadmap(slack, fake, "", CAROL).startswith(
        "#launch has no themes on its roadmap from 2027-Q1 on."
    )
