"""Helpers for scenario tests: what a person sees, found in the fake workspace."""

from typing import Any

from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient
from tests.conftest import ALICE, BOB, TEAM


def cards(fake: FakeSlack, user_id: str) -> list[dict[str, Any]]:
    """Rolecall's cards (messages with buttons or a status) in a person's DM, oldest first."""
    return [m for m in fake.dms_to(user_id) if m["blocks"]]


def notes(fake: FakeSlack, user_id: str) -> list[str]:
    """Plain DMs (no blocks) a person received, as they read them."""
    return [fake.readable(m["text"]) for m in fake.dms_to(user_id) if not m["blocks"]]


def ephemerals(fake: FakeSlack, user_id: str) -> list[str]:
    return [fake.render(s.text, s.blocks) for s in fake.seen_by(user_id) if s.kind == "ephemeral"]


def rendered(fake: FakeSlack, message: dict[str, Any]) -> str:
    return fake.render(message["text"], message["blocks"])


def item_id(card: dict[str, Any]) -> str:
    actions = next(b for b in card["blocks"] if b["type"] == "actions")
    return str(actions["elements"][0]["value"])


def buttons(card: dict[str, Any]) -> list[str]:
    return [
        e["text"]["text"] for b in card["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]


def command(slack: SignedClient, fake: FakeSlack, name: str, text: str, user: str) -> str:
    """Run a slash command in #launch and return what its author saw (ack or response_url)."""
    before = len(ephemerals(fake, user))
    response = slack.command(name, text, user, TEAM)
    assert response.status_code == 200
    fake.wait_for(lambda: len(ephemerals(fake, user)) > before)
    return ephemerals(fake, user)[-1]


def set_up_team(slack: SignedClient, fake: FakeSlack) -> None:
    """Alice is the product manager, Bob the project manager of #launch."""
    command(slack, fake, "/role", f"<@{ALICE}|alice> product", ALICE)
    command(slack, fake, "/role", f"<@{BOB}|bob> project", ALICE)
