"""The core loop through signed HTTP requests: roles, capture, delivery, triage, reporter told."""

from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient
from tests.conftest import ALICE, BOB, CAROL, TEAM


def set_roles(slack: SignedClient, fake: FakeSlack) -> None:
    slack.command("/role", f"<@{ALICE}|alice> product", ALICE, TEAM)
    slack.command("/role", f"<@{BOB}> project", ALICE, TEAM)
    fake.wait_for(lambda: len(fake.calls_to("response_url")) == 2)


def test_feedback_command_reaches_only_the_product_manager(
    slack: SignedClient, fake: FakeSlack
) -> None:
    set_roles(slack, fake)
    response = slack.command("/feedback", "Customers want CSV export", CAROL, TEAM)

    assert response.status_code == 200
    assert "sent to <@UALICE>" in response.text
    fake.wait_for(lambda: any(m["blocks"] for m in fake.dms_to(ALICE)))
    card = next(m for m in fake.dms_to(ALICE) if m["blocks"])
    rendered = fake.render(card["text"], card["blocks"])
    assert "Customers want CSV export" in rendered
    assert "[Plan] [Decline] [Duplicate]" in rendered
    assert not any(m["blocks"] for m in fake.dms_to(BOB))
