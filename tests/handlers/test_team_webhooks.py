"""Outbound webhooks end to end: `/rolecall webhook` as signed slash commands, a team's events
delivered to a verifying receiver on loopback, retried by later runs of the time loop, turned
off or given up with a note to the team, and never crossing workspaces."""

import logging
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from bot.tick import Ticker
from bot.webhooks import new_secret, verify
from handlers.logs import configure_logging
from handlers.services import Services
from handlers.settings import Settings
from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient
from sandbox.webhook_receiver import WebhookReceiver
from storage.models import ItemKind, ItemStatus, Webhook
from storage.webhooks import WebhookStore
from tests.conftest import ALICE, BOB, CAROL, DAVE, ERIN, TEAM, WORKSPACE, FixedClock
from tests.handlers.scenario import (
    add_milestone,
    cards,
    command,
    item_id,
    notes,
    plan,
    set_up_team,
    tick,
)
from tests.handlers.test_triage_table import file_item, item_of, press

SECRET = re.compile(r"`(whsec_[A-Za-z0-9+/=]+)`")
ALL_EVENTS = "item.filed item.status_changed milestone.done risk.filed"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The receiver listens on loopback, over plain http."""
    return settings.model_copy(update={"webhooks_allow_private": True})


@pytest.fixture
def secrets() -> dict[str, str]:
    """The receiver's secret for each path, learnt as each webhook is added."""
    return {}


@pytest.fixture
def receiver(secrets: dict[str, str], clock: FixedClock) -> Iterator[WebhookReceiver]:
    with WebhookReceiver(secrets, verify, clock) as started:
        yield started


def add_webhook(
    slack: SignedClient,
    fake: FakeSlack,
    receiver: WebhookReceiver,
    secrets: dict[str, str],
    path: str = "/hook",
    events: str = "",
    user: str = ALICE,
) -> str:
    """`/rolecall webhook add` with the URL as Slack sends one typed; the receiver learns the
    secret from the reply."""
    text = f"webhook add <{receiver.url}{path}> {events}".strip()
    reply = command(slack, fake, "/rolecall", text, user)
    found = SECRET.search(reply)
    assert found is not None, reply
    secrets[path.split("?")[0]] = found[1]
    return reply


def bodies(receiver: WebhookReceiver) -> list[dict[str, Any]]:
    assert all(r.verified for r in receiver.deliveries)
    return [r.body for r in receiver.deliveries]


def statuses(receiver: WebhookReceiver) -> list[int]:
    return [r.status for r in receiver.deliveries]


def webhook_notes(fake: FakeSlack, user_id: str) -> list[str]:
    """The DMs a person got about webhooks (role holders also hear of their roles)."""
    return [note for note in notes(fake, user_id) if note.startswith("Webhook")]


def test_a_new_item_reaches_the_webhook_once_signed_and_a_plus_one_sends_nothing(
    slack: SignedClient,
    fake: FakeSlack,
    services: Services,
    receiver: WebhookReceiver,
    secrets: dict[str, str],
) -> None:
    set_up_team(slack, fake)
    reply = add_webhook(slack, fake, receiver, secrets)
    quote, _ = slack.say(TEAM, ERIN, "Acme: we churn without SSO")
    slack.react(TEAM, CAROL, quote["ts"], "bulb")
    slack.react(TEAM, DAVE, quote["ts"], "bulb")  # a +1: no new item, no event

    assert reply.startswith("Webhook `1` added for #launch: all events to `127.0.0.1`.\n")
    assert f"shown only this once: `{secrets['/hook']}`" in reply
    for person in (BOB, CAROL, DAVE, ERIN):  # the secret went to its adder only
        assert all(secrets["/hook"] not in seen.text for seen in fake.seen_by(person))
    [received] = receiver.deliveries
    assert received.verified and received.path == "/hook" and received.status == 204
    [card] = cards(fake, ALICE)
    data = dict(received.body["data"])
    permalink = data.pop("permalink")
    assert permalink.endswith(f"/archives/{TEAM}/p{quote['ts'].replace('.', '')}")
    assert received.body["id"] == received.headers["webhook-id"]
    assert (received.body["type"], received.body["timestamp"]) == (
        "item.filed",
        "2026-11-30T08:00:00Z",
    )
    assert data == {
        "workspace_id": WORKSPACE,
        "team_channel_id": TEAM,
        "item_id": int(item_id(card)),
        "kind": "feedback",
        "status": "open",
        "text": "Acme: we churn without SSO",
        "reporter_id": CAROL,
        "author_id": ERIN,
        "actor_id": CAROL,
        "milestone_id": None,
        "created_at": "2026-11-30T08:00:00Z",
        "updated_at": "2026-11-30T08:00:00Z",
    }

    # The same event again (another runner, a replay) is the same key: nothing more is sent.
    item = services.triage.items.get(int(item_id(card)))
    assert item is not None
    services.webhooks.item_filed(item)
    assert len(receiver.deliveries) == 1


def test_status_changes_and_milestones_reach_the_endpoints_that_asked_for_them(
    slack: SignedClient,
    fake: FakeSlack,
    services: Services,
    receiver: WebhookReceiver,
    secrets: dict[str, str],
    clock: FixedClock,
) -> None:
    set_up_team(slack, fake)
    add_webhook(slack, fake, receiver, secrets, "/all")
    reply = add_webhook(slack, fake, receiver, secrets, "/milestones", "milestone", BOB)
    assert reply.startswith("Webhook `2` added for #launch: `milestone.done` to `127.0.0.1`.")

    command(slack, fake, "/feedback", "SSO " + "x" * 700, CAROL)
    [card] = cards(fake, ALICE)
    filed_id = item_id(card)
    clock.now += timedelta(minutes=5)
    beta = add_milestone(slack, fake, services, due="2026-12-02")
    plan(slack, fake, ALICE, fake.dm_channel(ALICE), card["ts"], filed_id, beta)
    slack.click(ALICE, fake.dm_channel(ALICE), card["ts"], "item_plan", filed_id)  # again
    clock.now += timedelta(hours=1)
    command(slack, fake, "/milestone", "done Public beta", BOB)
    command(slack, fake, "/milestone", "done Public beta", BOB)  # no longer open: no event

    assert [(r.path, r.body["type"]) for r in receiver.deliveries] == [
        ("/all", "item.filed"),
        ("/all", "item.status_changed"),
        ("/all", "milestone.done"),
        ("/milestones", "milestone.done"),
    ]
    filed, planned, done, also_done = bodies(receiver)
    assert len(filed["data"]["text"]) == 500 and filed["data"]["text"].endswith("x…")
    assert planned["timestamp"] == "2026-11-30T08:05:00Z"
    assert {k: planned["data"][k] for k in ("item_id", "status", "actor_id", "updated_at")} == {
        "item_id": int(filed_id),
        "status": "planned",
        "actor_id": ALICE,
        "updated_at": "2026-11-30T08:05:00Z",
    }
    assert done["data"] == {
        "workspace_id": WORKSPACE,
        "team_channel_id": TEAM,
        "milestone_id": 1,
        "name": "Public beta",
        "status": "done",
        "due_date": "2026-12-02",
        "owner_id": None,
        "actor_id": BOB,
        "created_at": "2026-11-30T08:05:00Z",
        "done_at": "2026-11-30T09:05:00Z",
    }
    assert also_done["data"] == done["data"]
    assert also_done["id"] != done["id"]  # one id per event and endpoint
    assert len(set(receiver.unique_ids)) == 4


def test_every_change_of_status_is_sent_even_a_repeated_one_answers_and_wakes_included(
    slack: SignedClient,
    fake: FakeSlack,
    services: Services,
    receiver: WebhookReceiver,
    secrets: dict[str, str],
    clock: FixedClock,
) -> None:
    set_up_team(slack, fake)
    add_webhook(slack, fake, receiver, secrets, "/status", "status")
    card = file_item(slack, fake, ItemKind.FEEDBACK, "SSO for Acme")
    thread = item_of(services, card).source_ts
    for question, answer in (("Which plan?", "Enterprise"), ("How many seats?", "300")):
        clock.now += timedelta(minutes=5)
        press(slack, fake, ALICE, card, "item_needs_info", {"reason": question})
        fake.wait_for(lambda: item_of(services, card).status is ItemStatus.NEEDS_INFO)
        clock.now += timedelta(minutes=5)
        slack.say(TEAM, CAROL, answer, thread_ts=thread)
        fake.wait_for(lambda: item_of(services, card).status is ItemStatus.OPEN)
    press(slack, fake, ALICE, card, "item_snooze", {"until": "2026-12-02"})
    fake.wait_for(lambda: item_of(services, card).status is ItemStatus.SNOOZED)
    services.ticker.tick(clock.now + timedelta(days=2, hours=1))  # Wed 09:xx: it wakes

    assert [(b["type"], b["data"]["status"], b["data"]["actor_id"]) for b in bodies(receiver)] == [
        ("item.status_changed", "needs_info", ALICE),
        ("item.status_changed", "open", CAROL),
        ("item.status_changed", "needs_info", ALICE),
        ("item.status_changed", "open", CAROL),
        ("item.status_changed", "snoozed", ALICE),
        ("item.status_changed", "open", ALICE),
    ]
    assert len(set(receiver.unique_ids)) == 6


def test_a_failing_receiver_is_retried_on_later_runs_under_the_same_id(
    slack: SignedClient,
    fake: FakeSlack,
    receiver: WebhookReceiver,
    secrets: dict[str, str],
    ticker: Ticker,
    clock: FixedClock,
) -> None:
    set_up_team(slack, fake)
    add_webhook(slack, fake, receiver, secrets)
    receiver.respond(500, times=2)
    start = clock.now

    command(slack, fake, "/feedback", "SSO for Acme", CAROL)
    assert statuses(receiver) == [500]
    tick(ticker, clock, start + timedelta(seconds=59))  # backing off for a minute
    assert statuses(receiver) == [500]
    tick(ticker, clock, start + timedelta(minutes=1))
    assert statuses(receiver) == [500, 500]
    tick(ticker, clock, start + timedelta(minutes=2))  # then for two
    assert statuses(receiver) == [500, 500]
    tick(ticker, clock, start + timedelta(minutes=3))
    assert statuses(receiver) == [500, 500, 204]
    tick(ticker, clock, start + timedelta(hours=5))
    assert len(receiver.deliveries) == 3

    first, second, third = bodies(receiver)
    assert first == second == third  # the body stored when queued, byte for byte
    assert receiver.unique_ids == [first["id"]]
    assert [r.headers["webhook-timestamp"] for r in receiver.deliveries] == [
        str(int((start + timedelta(minutes=m)).timestamp())) for m in (0, 1, 3)
    ]
    assert webhook_notes(fake, ALICE) == []


def test_410_gone_turns_the_webhook_off_and_tells_the_team_once(
    slack: SignedClient,
    fake: FakeSlack,
    receiver: WebhookReceiver,
    secrets: dict[str, str],
    ticker: Ticker,
    clock: FixedClock,
) -> None:
    set_up_team(slack, fake)
    add_webhook(slack, fake, receiver, secrets)
    receiver.respond(410)

    command(slack, fake, "/feedback", "SSO for Acme", CAROL)
    command(slack, fake, "/feedback", "Dark mode", CAROL)
    tick(ticker, clock, clock.now + timedelta(hours=2))

    assert statuses(receiver) == [410]
    listed = command(slack, fake, "/rolecall", "webhook list", ERIN)
    assert listed == (
        "Webhooks of #launch:\n"
        "• `1` `127.0.0.1` · all events · *off*: 410 Gone: the receiver asked us to stop"
    )
    note = (
        "Webhook `1` of #launch (to `127.0.0.1`) is off: it answered 410 Gone: the receiver "
        "asked us to stop. Nothing more is sent to it; `/rolecall webhook remove 1`, then "
        "`/rolecall webhook add`, sets it up again."
    )
    assert webhook_notes(fake, ALICE) == [note]  # a role holder, who added it
    assert webhook_notes(fake, BOB) == [note]  # the other role holder
    assert webhook_notes(fake, CAROL) == webhook_notes(fake, ERIN) == []


def test_after_eight_failures_an_event_is_given_up_and_the_team_told_once(
    slack: SignedClient,
    fake: FakeSlack,
    receiver: WebhookReceiver,
    secrets: dict[str, str],
    ticker: Ticker,
    clock: FixedClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    configure_logging()
    caplog.set_level(logging.INFO)  # as `rolecall serve` logs
    set_up_team(slack, fake)
    add_webhook(slack, fake, receiver, secrets, "/hook?token=abc", user=DAVE)  # an admin
    receiver.respond(503, times=100)

    command(slack, fake, "/feedback", "SSO for Acme", CAROL)
    for _ in range(9):  # past every backoff, the longest an hour
        tick(ticker, clock, clock.now + timedelta(minutes=61))

    assert statuses(receiver) == [503] * 8
    assert receiver.unique_ids == [receiver.deliveries[0].headers["webhook-id"]]
    note = (
        "Webhook `1` of #launch (to `127.0.0.1`) failed 8 times in a row, so I gave up on one "
        "event (`item.filed`); the last answer: 503 Service Unavailable. Later events are still "
        "sent. `/rolecall webhook list` shows it; `/rolecall webhook remove 1` stops it. "
        "(I tell you of this at most once a day.)"
    )
    for person in (ALICE, BOB, DAVE):  # the role holders, and the admin who added it
        assert webhook_notes(fake, person) == [note]
    assert webhook_notes(fake, CAROL) == webhook_notes(fake, ERIN) == []

    tick(ticker, clock, clock.now + timedelta(days=1))
    assert len(receiver.deliveries) == 8  # given up: never tried again
    command(slack, fake, "/feedback", "Dark mode", CAROL)
    assert len(receiver.deliveries) == 9  # the endpoint itself is still on
    assert all(webhook_notes(fake, person) == [note] for person in (ALICE, BOB, DAVE))

    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "webhook 1: item.filed msg_" in logged and "503 Service Unavailable" in logged
    assert secrets["/hook"] not in logged
    assert "/hook" not in logged and "token=abc" not in logged


def test_only_a_team_manager_adds_or_removes_and_anyone_lists(
    slack: SignedClient, fake: FakeSlack, receiver: WebhookReceiver, secrets: dict[str, str]
) -> None:
    set_up_team(slack, fake)
    url = f"<{receiver.url}/hook>"

    refused = command(slack, fake, "/rolecall", f"webhook add {url}", ERIN)
    assert refused == (
        "Sorry, only the people who hold a role in #launch (or a workspace admin) can change "
        "its webhooks."
    )
    add_webhook(slack, fake, receiver, secrets, user=DAVE)  # a workspace admin may
    assert command(slack, fake, "/rolecall", "webhook remove 1", ERIN) == refused
    assert command(slack, fake, "/rolecall", "webhook", ERIN).startswith("Webhooks of #launch:")
    removed = command(slack, fake, "/rolecall", "webhook remove 1", BOB)
    assert removed == "Webhook `1` removed: nothing more is sent to it."
    assert command(slack, fake, "/rolecall", "webhook list", ERIN).startswith(
        "#launch has no webhooks."
    )

    command(slack, fake, "/feedback", "SSO for Acme", CAROL)
    assert receiver.deliveries == []


def test_the_list_shows_hosts_and_events_never_a_secret_path_or_query(
    slack: SignedClient,
    fake: FakeSlack,
    services: Services,
    receiver: WebhookReceiver,
    secrets: dict[str, str],
) -> None:
    set_up_team(slack, fake)
    # Slack escapes `&` in what people type, links included.
    add_webhook(slack, fake, receiver, secrets, "/a?token=s3cr3t&amp;team=launch")
    add_webhook(slack, fake, receiver, secrets, "/b", "status,milestone")

    listed = command(slack, fake, "/rolecall", "webhook list", CAROL)

    assert listed == (
        "Webhooks of #launch:\n"
        "• `1` `127.0.0.1` · all events · active\n"
        "• `2` `127.0.0.1` · `item.status_changed`, `milestone.done` · active"
    )
    assert not any(secret in listed for secret in secrets.values())
    stored = WebhookStore(services.db, WORKSPACE).for_team(TEAM)
    assert [(h.url, h.events) for h in stored] == [
        (f"{receiver.url}/a?token=s3cr3t&team=launch", ALL_EVENTS),
        (f"{receiver.url}/b", "item.status_changed milestone.done"),
    ]


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("webhook add ftp://example.com/x", "A webhook URL must start with `https://`"),
        ("webhook add <https://u:p@example.com/x>", "Leave the `user:password@` part out"),
        ("webhook add https://example.com/x risks", "`risks` is not a webhook event."),
        ("webhook remove one", "Name the webhook by its number"),
        ("webhook remove 42", "#launch has no webhook `42`"),
        ("webhook juggle", "Usage: `/rolecall webhook add https://example.com/hook [events]`"),
        ("webhook add", "Usage: `/rolecall webhook add"),
    ],
)
def test_bad_webhook_commands_get_a_usage_reply(
    slack: SignedClient, fake: FakeSlack, text: str, reply: str
) -> None:
    set_up_team(slack, fake)
    assert command(slack, fake, "/rolecall", text, ALICE).startswith(reply)


def test_a_team_has_at_most_ten_webhooks(
    slack: SignedClient, fake: FakeSlack, receiver: WebhookReceiver, secrets: dict[str, str]
) -> None:
    add_webhook(slack, fake, receiver, secrets, "/0")
    again = command(slack, fake, "/rolecall", f"webhook add <{receiver.url}/0>", ALICE)
    assert again == "#launch already has a webhook to that URL: `/rolecall webhook list`."
    for n in range(1, 10):
        add_webhook(slack, fake, receiver, secrets, f"/{n}")
    refused = command(slack, fake, "/rolecall", f"webhook add <{receiver.url}/10>", ALICE)
    assert refused == (
        "#launch has 10 webhooks, as many as a team may have: `/rolecall webhook remove` one first."
    )


def test_another_workspaces_webhook_never_hears_this_ones_events(
    slack: SignedClient,
    fake: FakeSlack,
    services: Services,
    receiver: WebhookReceiver,
    secrets: dict[str, str],
    clock: FixedClock,
) -> None:
    """Same channel id, same events, same receiver: only the workspace differs."""
    theirs = WebhookStore(services.db, "T0002")
    other = theirs.add(
        Webhook(
            team_channel_id=TEAM,
            url=f"{receiver.url}/theirs",
            secret=new_secret(),
            events=ALL_EVENTS,
            created_by=ALICE,
            created_at=clock.now,
        )
    )
    assert other is not None and other.id is not None
    secrets["/theirs"] = other.secret
    set_up_team(slack, fake)
    add_webhook(slack, fake, receiver, secrets, "/ours")

    command(slack, fake, "/feedback", "SSO for Acme", CAROL)
    [card] = cards(fake, ALICE)
    beta = add_milestone(slack, fake, services, due="2026-12-02")
    plan(slack, fake, ALICE, fake.dm_channel(ALICE), card["ts"], item_id(card), beta)
    command(slack, fake, "/milestone", "done Public beta", BOB)

    assert [(r.path, r.body["type"]) for r in receiver.deliveries] == [
        ("/ours", "item.filed"),
        ("/ours", "item.status_changed"),
        ("/ours", "milestone.done"),
    ]
    assert {r.body["data"]["workspace_id"] for r in receiver.deliveries} == {WORKSPACE}
    listed = command(slack, fake, "/rolecall", "webhook list", ALICE)
    assert f"`{other.id}`" not in listed
    refused = command(slack, fake, "/rolecall", f"webhook remove {other.id}", ALICE)
    assert refused.startswith(f"#launch has no webhook `{other.id}`")
    assert theirs.get(other.id) is not None


def test_a_new_risk_sends_risk_filed_once_beside_item_filed(
    slack: SignedClient,
    fake: FakeSlack,
    services: Services,
    receiver: WebhookReceiver,
    secrets: dict[str, str],
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/milestone", "add Public beta 2026-12-20", BOB)
    add_webhook(slack, fake, receiver, secrets)

    command(slack, fake, "/risk", "Competitors copy us #Public beta", CAROL)
    command(slack, fake, "/feedback", "Dark mode", CAROL)

    fake.wait_for(lambda: len(receiver.deliveries) == 3)
    types = [body["type"] for body in bodies(receiver)]
    assert sorted(types) == ["item.filed", "item.filed", "risk.filed"]
    [filed] = [body["data"] for body in bodies(receiver) if body["type"] == "risk.filed"]
    [risk] = [q.item for q in services.triage.items.open_queue(TEAM, ItemKind.MARKET_RISK)]
    assert {k: filed[k] for k in ("item_id", "kind", "likelihood", "impact", "high")} == {
        "item_id": risk.id,
        "kind": "market_risk",
        "likelihood": "medium",
        "impact": "medium",
        "high": False,
    }
    assert filed["owner_id"] is None and filed["milestone_id"] == risk.milestone_id
    assert (filed["workspace_id"], filed["team_channel_id"]) == (WORKSPACE, TEAM)

    services.webhooks.risk_filed(risk)  # the same event again: the same key, nothing sent
    assert len(receiver.deliveries) == 3
