"""Posts that fail, are rate limited or lose their response: retried, found, never doubled;
and cards that did not go out the first time."""

import threading
from datetime import timedelta

from bot.blocks.common import Message
from bot.capture import Capture
from bot.cards import card_send
from bot.outbox import Pacer
from bot.tick import CARD_RETRIES_PER_RUN, Ticker
from handlers.services import Services
from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient
from storage.models import ItemKind, ItemStatus, SendStatus
from storage.outbox import OutboxStore
from tests.conftest import ALICE, BOB, CAROL, ERIN, TEAM, FixedClock
from tests.handlers.scenario import (
    add_milestone,
    cards,
    command,
    digests,
    dm_texts,
    file_some,
    item_id,
    nudges,
    plan,
    rendered,
    set_up_team,
    thread,
    tick,
    utc,
)


def test_a_nudge_answered_5xx_is_looked_for_then_posted_once_in_the_same_run(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/milestone", "add Beta 2026-12-01", BOB)
    fake.fail_next("chat.postMessage", "internal_error", status=500)  # Slack did not post it

    tick(ticker, clock, utc(11, 30, 9))

    assert nudges(fake) == [":calendar: Milestone *Beta* is due tomorrow (Tue 1 Dec 2026)"]
    failed = next(n for n, c in enumerate(fake.calls) if c.status == 500)
    assert [c.method for c in fake.calls[failed : failed + 3]] == [
        "chat.postMessage",  # answered 500
        "conversations.history",  # not there: Slack did not take it
        "chat.postMessage",  # so it is posted
    ]


def test_a_nudge_slack_took_but_whose_response_was_lost_is_found_not_posted_again(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/milestone", "add Beta 2026-12-01", BOB)
    command(slack, fake, "/milestone", "add Launch 2026-12-01", BOB)
    fake.lose_response("chat.postMessage", lambda p: "Beta" in str(p["blocks"]))

    tick(ticker, clock, utc(11, 30, 9))
    tick(ticker, clock, utc(11, 30, 9, 1))

    [posted] = nudges(fake)  # one message for both milestones, posted once
    assert "*Beta*" in posted and "*Launch*" in posted
    [lookup] = fake.calls_to("conversations.history")
    assert lookup["channel"] == TEAM and lookup["include_all_metadata"] in (1, "1")


def test_a_failed_nudge_is_retried_next_run_and_found_if_slack_had_it(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/milestone", "add Beta 2026-12-01", BOB)
    fake.lose_response("chat.postMessage", lambda p: "Beta" in str(p["blocks"]))
    # ...and Slack cannot be asked: history fails past slack-sdk's two retries
    fake.fail_next("conversations.history", "internal_error", status=500, times=3)

    tick(ticker, clock, utc(11, 30, 9))
    [posted] = nudges(fake)
    tick(ticker, clock, utc(11, 30, 9) + timedelta(seconds=59))  # backing off for a minute
    assert fake.calls_to("conversations.history") == []
    tick(ticker, clock, utc(11, 30, 9, 1))
    tick(ticker, clock, utc(11, 30, 9, 5))

    assert nudges(fake) == [posted]
    assert len(fake.calls_to("conversations.history")) == 1  # found by the next run, recorded


def test_a_nudge_that_keeps_failing_is_retried_by_later_runs_not_lost(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/milestone", "add Beta 2026-12-01", BOB)
    # three for the nudge's attempts in this run, one for the digest parent's first
    fake.fail_next("chat.postMessage", "internal_error", status=500, times=4)

    tick(ticker, clock, utc(11, 30, 9))
    assert nudges(fake) == []
    tick(ticker, clock, utc(11, 30, 9, 1))

    assert nudges(fake) == [":calendar: Milestone *Beta* is due tomorrow (Tue 1 Dec 2026)"]


def test_a_deadline_dm_and_a_digest_reply_whose_responses_were_lost_are_found(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    file_some(slack, fake)
    command(slack, fake, "/deadline", f"Write the launch post 2026-12-08 <@{CAROL}>", BOB)
    fake.wait_for(lambda: len(dm_texts(fake, CAROL)) == 1)
    fake.lose_response("chat.postMessage", lambda p: p["text"].startswith("Product digest"))
    fake.lose_response("chat.postMessage", lambda p: p["channel"] == CAROL)

    tick(ticker, clock, utc(12, 7, 9))
    tick(ticker, clock, utc(12, 7, 9, 1))

    [parent] = digests(fake)
    replies = thread(fake, parent)
    assert [r["text"].split(" digest")[0] for r in replies] == ["Product", "Project"]
    assert len(dm_texts(fake, CAROL)) == 2
    [opened] = fake.calls_to("conversations.open")
    assert opened["users"] == CAROL
    [in_thread] = fake.calls_to("conversations.replies")
    assert in_thread["ts"] == parent["ts"]


def test_rate_limited_posts_wait_and_go_through_once(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/milestone", "add Beta 2026-12-01", BOB)
    fake.rate_limit_next("chat.postMessage", retry_after=0)

    tick(ticker, clock, utc(11, 30, 9))

    assert len(nudges(fake)) == 1


def test_a_card_whose_post_failed_is_posted_once_by_a_later_run(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    fake.fail_next("chat.postMessage", "internal_error", status=500, times=3)  # all attempts
    command(slack, fake, "/feedback", "SSO for Acme", CAROL)
    fake.wait_for(lambda: len([c for c in fake.calls if c.status == 500]) == 3)
    assert cards(fake, ALICE) == []

    tick(ticker, clock, clock.now + timedelta(seconds=59))  # backing off for a minute
    assert cards(fake, ALICE) == []
    tick(ticker, clock, clock.now + timedelta(seconds=1))
    tick(ticker, clock, clock.now + timedelta(minutes=5))

    assert [rendered(fake, c).splitlines()[1] for c in cards(fake, ALICE)] == ["SSO for Acme"]


def test_a_card_slack_took_but_whose_response_was_lost_is_found_and_still_acts(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock, services: Services
) -> None:
    set_up_team(slack, fake)
    fake.lose_response("chat.postMessage", lambda p: p["channel"] == ALICE)
    command(slack, fake, "/feedback", "SSO for Acme", CAROL)
    fake.wait_for(lambda: len(fake.calls_to("conversations.history")) == 1)
    [card] = cards(fake, ALICE)

    tick(ticker, clock, clock.now + timedelta(minutes=1))
    tick(ticker, clock, clock.now + timedelta(minutes=5))
    assert cards(fake, ALICE) == [card]

    beta = add_milestone(slack, fake, services)
    plan(slack, fake, ALICE, fake.dm_channel(ALICE), card["ts"], "1", beta)
    fake.wait_for(lambda: "*Planned* by @alice" in rendered(fake, cards(fake, ALICE)[0]))
    assert [u["ts"] for u in fake.calls_to("chat.update")] == [card["ts"]]


def test_an_item_acked_by_a_process_that_stopped_before_posting_still_gets_its_card(
    slack: SignedClient, fake: FakeSlack, services: Services, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    services.capture.file(Capture(ItemKind.BLOCKER, "Staging is down", TEAM, CAROL))  # no announce
    ticker = services.ticker

    tick(ticker, clock, clock.now + timedelta(seconds=30))  # its own process may still post it
    assert cards(fake, BOB) == []
    tick(ticker, clock, clock.now + timedelta(minutes=1))
    tick(ticker, clock, clock.now + timedelta(minutes=1))

    assert len(cards(fake, BOB)) == 1


def test_a_backlog_of_failed_cards_drains_paced_over_several_runs(
    slack: SignedClient, fake: FakeSlack, services: Services, clock: FixedClock
) -> None:
    ticker = services.ticker
    set_up_team(slack, fake)
    fake.fail_next("chat.postMessage", "internal_error", times=25)  # Slack answers, not posted
    for n in range(25):
        command(slack, fake, "/feedback", f"idea {n}", CAROL)
    fake.wait_for(lambda: len([c for c in fake.calls if c.error == "internal_error"]) == 25)
    waits: list[float] = []
    services.outbox.pacer = Pacer(sleep=waits.append)

    tick(ticker, clock, clock.now + timedelta(minutes=1))
    assert len(cards(fake, ALICE)) == CARD_RETRIES_PER_RUN == 20
    assert len(waits) >= 19  # one card a second to the same person
    tick(ticker, clock, clock.now + timedelta(minutes=1))
    tick(ticker, clock, clock.now + timedelta(minutes=1))

    texts = sorted(rendered(fake, c).splitlines()[1] for c in cards(fake, ALICE))
    assert texts == sorted(f"idea {n}" for n in range(25))


def test_a_card_whose_lookups_keep_failing_is_found_later_not_posted_twice(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    fake.lose_response("chat.postMessage", lambda p: p["channel"] == ALICE)
    # Slack cannot be asked, past slack-sdk's two retries: right after the post, then next run
    fake.fail_next("conversations.history", "internal_error", status=500, times=6)
    command(slack, fake, "/feedback", "SSO for Acme", CAROL)
    [card] = cards(fake, ALICE)

    tick(ticker, clock, clock.now + timedelta(minutes=1))  # the lookup fails again
    tick(ticker, clock, clock.now + timedelta(minutes=2))  # after the backoff: found
    tick(ticker, clock, clock.now + timedelta(minutes=10))

    assert cards(fake, ALICE) == [card]
    assert len(fake.calls_to("conversations.history")) == 1  # the one lookup that answered


def test_an_unannounced_item_reaches_every_holder_even_past_a_capped_backlog(
    slack: SignedClient, fake: FakeSlack, services: Services, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/role", f"<@{ERIN}> product", ALICE)
    alice = fake.users.pop(ALICE)  # her DM cannot be reached for a while: her cards fail
    for n in range(CARD_RETRIES_PER_RUN):
        command(slack, fake, "/feedback", f"idea {n}", CAROL)
    fake.users[ALICE] = alice
    clock.now += timedelta(minutes=1)
    services.capture.file(Capture(ItemKind.FEEDBACK, "the unannounced one", TEAM, CAROL))

    for _ in range(3):
        tick(services.ticker, clock, clock.now + timedelta(minutes=2))

    for holder in (ALICE, ERIN):
        texts = [rendered(fake, c).splitlines()[1] for c in cards(fake, holder)]
        assert sorted(texts) == sorted([*(f"idea {n}" for n in range(20)), "the unannounced one"])


def test_every_recipients_card_is_owed_before_the_first_is_posted(
    slack: SignedClient, fake: FakeSlack, services: Services, clock: FixedClock
) -> None:
    """A process that stops after its first card leaves the others to the next run."""
    set_up_team(slack, fake)
    command(slack, fake, "/role", f"<@{ERIN}> product", ALICE)
    filed = services.capture.file(Capture(ItemKind.FEEDBACK, "for both", TEAM, CAROL))
    sends = OutboxStore(services.db, services.workspace_id)
    alice_card, erin_card = (f"card:{filed.item.id}:{user}" for user in (ALICE, ERIN))
    slow_slack = fake.hold("chat.postMessage")
    delivering = threading.Thread(
        target=services.capture.announce, args=(filed,), kwargs={"confirmed": True}
    )
    delivering.start()

    fake.wait_for(lambda: getattr(sends.get(alice_card), "status", None) is SendStatus.CLAIMED)
    owed = sends.get(erin_card)
    slow_slack.set()
    delivering.join(timeout=10)

    assert owed is not None and owed.status is SendStatus.QUEUED
    assert len(cards(fake, ALICE)) == len(cards(fake, ERIN)) == 1


def test_a_card_queued_by_a_process_that_stopped_is_posted_by_the_next_run(
    slack: SignedClient, fake: FakeSlack, services: Services, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/role", f"<@{ERIN}> product", ALICE)
    filed = services.capture.file(Capture(ItemKind.FEEDBACK, "for both", TEAM, CAROL))
    assert filed.item.id is not None
    sends = OutboxStore(services.db, services.workspace_id)
    sends.queue([(card_send(filed.item.id, u), u) for u in (ALICE, ERIN)], clock.now)
    services.outbox.send([card_send(filed.item.id, ALICE)], ALICE, lambda _: Message("x", []))

    tick(services.ticker, clock, clock.now + timedelta(minutes=1))
    tick(services.ticker, clock, clock.now + timedelta(minutes=15))

    assert len(fake.dms_to(ALICE)) == 1 and len(cards(fake, ERIN)) == 1


def test_a_run_for_a_past_instant_claims_and_backs_off_from_now(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    """Claims carry the time they are made, not the instant a run plans for (`rolecall tick
    --at` a past instant, or a run still going long after it began)."""
    set_up_team(slack, fake)
    command(slack, fake, "/milestone", "add Beta 2026-12-01", BOB)
    fake.fail_next("chat.postMessage", "internal_error")  # Slack answers; nothing was posted
    clock.now = utc(11, 30, 10)

    ticker.tick(utc(11, 30, 9))  # an hour late: its failure backs off a minute from 10:00
    ticker.tick(utc(11, 30, 10) + timedelta(seconds=30))
    assert nudges(fake) == []
    tick(ticker, clock, utc(11, 30, 10, 1))

    assert nudges(fake) == [":calendar: Milestone *Beta* is due tomorrow (Tue 1 Dec 2026)"]


def test_an_earlier_attempt_is_found_however_many_messages_came_after_it(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock, services: Services
) -> None:
    """The lookup pages through the attempt's time window, not only Slack's latest page."""
    set_up_team(slack, fake)
    fake.lose_response("chat.postMessage", lambda p: p["channel"] == ALICE)
    fake.fail_next("conversations.history", "internal_error", status=500, times=3)
    command(slack, fake, "/feedback", "SSO for Acme", CAROL)
    [card] = cards(fake, ALICE)
    dm = fake.dm_channel(ALICE)
    for n in range(450):
        fake.user_message(dm, ALICE, f"note to self {n}")

    tick(ticker, clock, clock.now + timedelta(minutes=2))

    assert cards(fake, ALICE) == [card]
    pages = fake.calls_to("conversations.history")
    assert len(pages) == 3 and pages[-1]["cursor"]
    plan(slack, fake, ALICE, dm, card["ts"], item_id(card), add_milestone(slack, fake, services))
    fake.wait_for(lambda: "*Planned* by @alice" in rendered(fake, cards(fake, ALICE)[0]))


def test_a_reporter_notice_slack_took_but_answered_5xx_is_sent_once(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock, services: Services
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/feedback", "SSO for Acme", CAROL)
    [card] = cards(fake, ALICE)
    beta = add_milestone(slack, fake, services)
    fake.lose_response("chat.postMessage", lambda p: p["channel"] == CAROL)

    plan(slack, fake, ALICE, fake.dm_channel(ALICE), card["ts"], item_id(card), beta)
    tick(ticker, clock, clock.now + timedelta(minutes=2))
    tick(ticker, clock, clock.now + timedelta(minutes=10))

    assert dm_texts(fake, CAROL) == [
        "The feedback you raised in #launch was planned by @alice for *Public beta* "
        "(due Mon 14 Dec 2026):\n>SSO for Acme"
    ]


def test_a_triage_whose_process_stopped_before_the_notice_still_tells_the_reporter(
    slack: SignedClient, fake: FakeSlack, services: Services, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/feedback", "SSO for Acme", CAROL)
    items = services.triage.items
    [queued] = items.open_queue(TEAM, ItemKind.FEEDBACK)
    assert queued.item.id is not None
    # The status change committed; the process died before claiming the reporter's notice.
    items.transition(queued.item.id, (ItemStatus.OPEN,), ItemStatus.PLANNED, ALICE, clock.now)

    tick(services.ticker, clock, clock.now + timedelta(seconds=30))  # may still be claiming
    assert dm_texts(fake, CAROL) == []
    tick(services.ticker, clock, clock.now + timedelta(minutes=2))
    tick(services.ticker, clock, clock.now + timedelta(minutes=5))

    assert dm_texts(fake, CAROL) == [
        "The feedback you raised in #launch was planned by @alice:\n>SSO for Acme"
    ]
