"""/role: listing, bootstrapping, who may change roles, and both mention forms."""

import pytest

from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient
from tests.conftest import ALICE, BOB, CAROL, DAVE, ERIN
from tests.handlers.scenario import command, notes, set_up_team


def test_an_empty_channel_says_how_to_start(slack: SignedClient, fake: FakeSlack) -> None:
    reply = command(slack, fake, "/role", "", CAROL)
    assert reply == (
        "#launch has no roles yet. Start with `/role @person product` and `/role @person project`."
    )


def test_anyone_may_bootstrap_and_the_assignee_is_told(
    slack: SignedClient, fake: FakeSlack
) -> None:
    reply = command(slack, fake, "/role", f"<@{ALICE}|alice> product", CAROL)

    assert reply == "@alice is now the product manager of #launch."
    assert notes(fake, ALICE) == ["@carol made you the product manager of #launch."]
    listing = command(slack, fake, "/role", "list", ERIN)
    assert listing == (
        "Roles in #launch:\n• product manager: @alice\n• project manager: _nobody yet_"
    )


def test_both_mention_forms_are_understood(slack: SignedClient, fake: FakeSlack) -> None:
    command(slack, fake, "/role", f"<@{ALICE}|alice> product", ALICE)
    command(slack, fake, "/role", f"<@{BOB}> project", ALICE)
    assert "project manager: @bob" in command(slack, fake, "/role", "", CAROL)


def test_someone_without_a_role_is_refused_and_nothing_changes(
    slack: SignedClient, fake: FakeSlack
) -> None:
    set_up_team(slack, fake)

    reply = command(slack, fake, "/role", f"<@{ERIN}> product", ERIN)

    assert reply.startswith("Sorry, only the people who hold a role in #launch")
    assert "product manager: @alice\n" in command(slack, fake, "/role", "", ERIN)
    removal = command(slack, fake, "/role", f"remove <@{ALICE}> product", ERIN)
    assert removal.startswith("Sorry")
    assert "product manager: @alice\n" in command(slack, fake, "/role", "", ERIN)


def test_a_workspace_admin_may_change_roles(slack: SignedClient, fake: FakeSlack) -> None:
    set_up_team(slack, fake)
    reply = command(slack, fake, "/role", f"<@{ERIN}|erin> product", DAVE)
    assert reply == "@erin is now the product manager of #launch."
    assert {"user": DAVE} in fake.calls_to("users.info")  # the admin check read Dave's profile


def test_remove_and_one_person_holding_both_roles(slack: SignedClient, fake: FakeSlack) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/role", f"<@{ALICE}> project", BOB)
    command(slack, fake, "/role", f"remove <@{BOB}> project", ALICE)

    listing = command(slack, fake, "/role", "", CAROL)
    assert listing == ("Roles in #launch:\n• product manager: @alice\n• project manager: @alice")
    assert command(slack, fake, "/role", f"remove <@{BOB}> project", ALICE) == (
        "@bob was not the project manager of #launch."
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<@UALICE> boss", "`boss` is not a role: use `product` or `project`."),
        ("alice product", "I could not find a person in `alice`."),
        ("<@UALICE> product extra", "Usage: `/role` lists"),
        ("<@UNOBODY> product", "I can't find @UNOBODY in this workspace."),
        ("<@UROLECALL> product", "@rolecall can't hold a role: pick a person."),
        ("<!channel> product", "I could not find a person in `<!channel>`"),
    ],
)
def test_bad_input_gets_a_usage_reply(
    slack: SignedClient, fake: FakeSlack, text: str, expected: str
) -> None:
    reply = command(slack, fake, "/role", text, CAROL)
    assert reply.startswith(expected) or expected in reply
    assert command(slack, fake, "/role", "", CAROL).startswith("#launch has no roles yet")
