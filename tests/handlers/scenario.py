"""Helpers for scenario tests: what a person sees, found in the fake workspace, and time moved
by hand."""

from datetime import UTC, datetime
from typing import Any

import httpx

from bot.tick import Ticker
from handlers.services import Services
from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient, state_values
from tests.conftest import ALICE, BOB, CAROL, ERIN, TEAM, FixedClock


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


def utc(month: int, day: int, hour: int = 0, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def posts(fake: FakeSlack, channel: str = TEAM) -> list[dict[str, Any]]:
    """Rolecall's top-level posts in a channel, oldest first."""
    return [
        m
        for m in fake.messages.get(channel, [])
        if m["user"] == fake.bot_user_id and not m.get("thread_ts")
    ]


def nudges(fake: FakeSlack) -> list[str]:
    """Rolecall's reminders and escalations in #launch, as people read them (no digests)."""
    return [rendered(fake, m) for m in posts(fake) if "Weekly digest" not in m["text"]]


def digests(fake: FakeSlack) -> list[dict[str, Any]]:
    return [p for p in posts(fake) if "Weekly digest" in p["text"]]


def thread(fake: FakeSlack, parent: dict[str, Any], channel: str = TEAM) -> list[dict[str, Any]]:
    return [m for m in fake.messages[channel] if m.get("thread_ts") == parent["ts"]]


def dm_texts(fake: FakeSlack, user: str) -> list[str]:
    return [rendered(fake, m) for m in fake.dms_to(user)]


def tick(ticker: Ticker, clock: FixedClock, at: datetime) -> None:
    clock.now = at
    ticker.tick(at)


def add_milestone(
    slack: SignedClient,
    fake: FakeSlack,
    services: Services,
    name: str = "Public beta",
    due: str = "2026-12-14",
) -> int:
    """Bob (the project manager) adds a milestone to #launch; its id."""
    command(slack, fake, "/milestone", f"add {name} {due}", BOB)
    milestone = services.planning.store.milestone(TEAM, name.casefold())
    assert milestone is not None and milestone.id is not None
    return milestone.id


def plan(
    slack: SignedClient,
    fake: FakeSlack,
    user: str,
    channel: str,
    ts: str,
    item: str,
    milestone_id: int,
    **click: Any,
) -> httpx.Response:
    """Press Plan on a message (`click`: where on it) and, in the modal it opens, plan the
    item into the milestone; the submission's answer."""
    slack.click(user, channel, ts, "item_plan", item, **click)
    fake.wait_for(lambda: any(v["callback_id"] == "plan" for v in fake.open_views(user)))
    view = fake.open_views(user)[-1]
    answers = state_values(view, {"plan_milestone": str(milestone_id)})
    return slack.view_submission(view, user, answers)


def file_some(slack: SignedClient, fake: FakeSlack) -> None:
    command(slack, fake, "/feedback", "SSO for Acme", CAROL)
    command(slack, fake, "/feedback", "Dark mode <!channel>", ERIN)
    command(slack, fake, "/blocker", "Staging is down", CAROL)
    fake.wait_for(lambda: len(cards(fake, ALICE)) == 2 and len(cards(fake, BOB)) == 1)
