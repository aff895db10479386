"""A Slack that answers after the client has given up: the post may still land, so a timeout is a
lost response. Nothing is doubled, nobody's news is lost, nobody is told to try again."""

import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from slack_bolt import BoltContext, Respond
from sqlalchemy.exc import OperationalError

from handlers.after_ack import AfterAck
from handlers.errors import SORRY
from handlers.listeners.commands import CARD_FOLLOWS
from handlers.runtime import Runtime, build_runtime
from handlers.settings import Settings
from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient
from storage.db import make_engine
from tests.conftest import ALICE, CAROL, ERIN, SIGNING_SECRET, TEAM, FixedClock, in_process
from tests.handlers.scenario import (
    add_milestone,
    cards,
    command,
    ephemerals,
    file_some,
    item_id,
    notes,
    plan,
    posts,
    rendered,
    set_up_team,
    thread,
    tick,
    utc,
)

CLIENT_TIMEOUT = 0.3  # seconds; held calls answer only when released, long after this


@pytest.fixture
def impatient(settings: Settings, clock: FixedClock) -> Iterator[Runtime]:
    runtime = build_runtime(
        settings.model_copy(update={"slack_timeout": CLIENT_TIMEOUT}),
        clock,
        inline=True,
        sleep=lambda _: None,
    )
    yield runtime
    runtime.close()


@pytest.fixture
def slack(impatient: Runtime, fake: FakeSlack) -> Iterator[SignedClient]:
    client = SignedClient(
        "http://rolecall.test/slack/events",
        SIGNING_SECRET,
        fake,
        transport=in_process(impatient.endpoint),
    )
    yield client
    client.close()


def test_posts_that_time_out_but_land_are_found_not_doubled_and_nobody_is_told_to_retry(
    slack: SignedClient, fake: FakeSlack, impatient: Runtime, clock: FixedClock
) -> None:
    ticker = impatient.services.ticker
    set_up_team(slack, fake)

    slow = fake.hold("chat.postMessage")
    replies = [slack.command("/feedback", f"Idea {n}", CAROL, TEAM).text for n in range(3)]
    slow.set()  # Slack finally posts the three cards the client gave up on
    fake.wait_for(lambda: len(cards(fake, ALICE)) == 3)
    tick(ticker, clock, clock.now + timedelta(minutes=2))

    assert all("sent to" in reply for reply in replies)
    assert len(cards(fake, ALICE)) == 3

    beta = add_milestone(slack, fake, impatient.services)
    slow = fake.hold("chat.postMessage")
    slow_update = fake.hold("chat.update")
    card = cards(fake, ALICE)[0]
    idea = next(f"Idea {n}" for n in range(3) if f"Idea {n}" in rendered(fake, card))
    plan(slack, fake, ALICE, fake.dm_channel(ALICE), card["ts"], item_id(card), beta)
    slow.set()
    slow_update.set()
    fake.wait_for(lambda: len(notes(fake, CAROL)) == 1)
    tick(ticker, clock, clock.now + timedelta(minutes=2))
    tick(ticker, clock, clock.now + timedelta(minutes=5))

    assert notes(fake, CAROL) == [
        "The feedback you raised in #launch was planned by @alice for *Public beta* "
        f"(due Mon 14 Dec 2026):\n>{idea}"
    ]
    assert len(cards(fake, ALICE)) == 3
    assert SORRY not in ephemerals(fake, CAROL) + ephemerals(fake, ALICE)


def test_work_that_fails_after_the_ack_is_apologised_for_with_what_was_done(
    fake: FakeSlack,
) -> None:
    """A /feedback whose card could not be posted was still filed: its author hears that, not
    "try again" (which would file it twice)."""
    body = {"command": "/feedback", "response_url": fake.response_url(CAROL, TEAM)}
    context = BoltContext(response_url=body["response_url"])
    context["respond"] = Respond(response_url=body["response_url"])

    def post_cards() -> None:
        raise OperationalError("INSERT INTO outbox", {}, Exception("server closed the connection"))

    AfterAck(inline=True).run(
        body, context, post_cards, apology=CARD_FOLLOWS.format(kind="feedback")
    )

    assert ephemerals(fake, CAROL) == [
        "Your feedback is filed. I couldn't deliver its card just now; it will follow, "
        "no need to send it again."
    ]


@pytest.fixture
def hasty(settings: Settings, clock: FixedClock) -> Iterator[Runtime]:
    """The app with a short ack budget, so a test sees it run out."""
    runtime = build_runtime(
        settings.model_copy(update={"ack_budget": 0.3}), clock, inline=True, sleep=lambda _: None
    )
    yield runtime
    runtime.close()


def test_a_locked_database_delays_the_confirmation_not_the_ack(
    hasty: Runtime, fake: FakeSlack, database_url: str
) -> None:
    """Slack gives up on an ack after 3 s. The item waits for the lock; the ack does not."""
    client = SignedClient(
        "http://rolecall.test/slack/events",
        SIGNING_SECRET,
        fake,
        transport=in_process(hasty.endpoint),
    )
    set_up_team(client, fake)
    locker = make_engine(database_url)
    with locker.connect() as connection:
        if locker.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")
            connection.exec_driver_sql("LOCK TABLE item IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        response = client.command("/feedback", "SSO for Acme", CAROL, TEAM)
        acked_in = time.monotonic() - started
        assert cards(fake, ALICE) == []
        connection.rollback()
    locker.dispose()

    assert response.status_code == 200 and acked_in < 2
    assert response.text.startswith("The database is slow right now")
    fake.wait_for(lambda: len(cards(fake, ALICE)) == 1)
    fake.wait_for(lambda: any("sent to" in e for e in ephemerals(fake, CAROL)))
    client.close()


def test_a_digest_click_whose_refresh_times_out_is_not_told_to_try_again(
    slack: SignedClient, fake: FakeSlack, impatient: Runtime, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    file_some(slack, fake)
    tick(impatient.services.ticker, clock, utc(12, 7, 9))
    product = thread(fake, posts(fake)[-1])[0]
    actions = next(b for b in product["blocks"] if b.get("block_id") == "waiting_actions_1")
    beta = add_milestone(slack, fake, impatient.services, due="2026-12-21")

    slow = fake.hold("conversations.replies")
    item = actions["elements"][0]["value"]
    plan(slack, fake, ALICE, TEAM, product["ts"], item, beta, block_id="waiting_actions_1")
    slow.set()

    assert SORRY not in ephemerals(fake, ALICE)  # the Plan was applied
    assert len(notes(fake, CAROL)) + len(notes(fake, ERIN)) == 1


def test_a_card_whose_post_timed_out_is_brought_up_to_date_after_a_triage(
    slack: SignedClient, fake: FakeSlack, impatient: Runtime, clock: FixedClock
) -> None:
    """Triaged before any run found its card: the card is found later, not posted again, and
    stops offering buttons that no longer apply."""
    set_up_team(slack, fake)
    slow = fake.hold("chat.postMessage")
    command(slack, fake, "/feedback", "SSO for Acme", CAROL)
    slow.set()
    fake.wait_for(lambda: len(cards(fake, ALICE)) == 1)
    [card] = cards(fake, ALICE)
    beta = add_milestone(slack, fake, impatient.services)
    plan(slack, fake, ALICE, fake.dm_channel(ALICE), card["ts"], item_id(card), beta)
    assert "[Plan]" in rendered(fake, cards(fake, ALICE)[0])  # its record did not say where

    tick(impatient.services.ticker, clock, clock.now + timedelta(minutes=2))

    [card] = cards(fake, ALICE)
    assert "*Planned* by @alice" in rendered(fake, card) and "[Plan]" not in rendered(fake, card)
