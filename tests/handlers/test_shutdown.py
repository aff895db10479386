"""Stopping (SIGTERM): accepted work gets a bounded grace, and claims a stuck runner still holds
go back to the outbox, for another replica to retake soon instead of after the lease."""

from collections.abc import Iterator

import pytest
from sqlmodel import select

from bot.outbox import HAND_BACK_DELAY, LEASE
from handlers.runtime import Runtime, build_runtime
from handlers.settings import Settings
from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient
from storage.models import OutboxSend, SendKind, SendStatus
from tests.conftest import ALICE, CAROL, SIGNING_SECRET, TEAM, FixedClock, in_process
from tests.handlers.scenario import cards, set_up_team


@pytest.fixture
def replica(settings: Settings, clock: FixedClock) -> Iterator[Runtime]:
    """A process as `rolecall serve` runs it: work after the ack on its own threads."""
    runtime = build_runtime(settings, clock, sleep=lambda _: None)
    yield runtime
    runtime.close(grace=5)


def _card_send(runtime: Runtime) -> OutboxSend | None:
    with runtime.services.db.session() as session:
        return session.exec(select(OutboxSend).where(OutboxSend.kind == SendKind.CARD)).first()


def test_a_stop_hands_back_a_stuck_post_and_another_replica_posts_it_once(
    replica: Runtime, slack: SignedClient, fake: FakeSlack, clock: FixedClock, runtime: Runtime
) -> None:
    set_up_team(slack, fake)  # through the in-process app of the `runtime` fixture
    stuck = fake.hold("chat.postMessage")
    with SignedClient(
        "http://rolecall.test/slack/events",
        SIGNING_SECRET,
        fake,
        transport=in_process(replica.endpoint),
    ) as to_replica:
        assert to_replica.command("/feedback", "Offline mode", CAROL, TEAM).status_code == 200

    def claimed() -> bool:
        send = _card_send(replica)
        return send is not None and send.status is SendStatus.CLAIMED

    fake.wait_for(claimed)
    assert replica.close(grace=0.2) == 1  # the card's post is still waiting on Slack

    handed_back = _card_send(replica)
    assert handed_back is not None and handed_back.status is SendStatus.FAILED
    assert handed_back.retry_at == clock.now + HAND_BACK_DELAY < clock.now + LEASE
    assert handed_back.post_tag in handed_back.earlier_tags.split()  # looked for first

    # The stopped process never got its post through (its connection died with it).
    fake.fail_next("chat.postMessage", "internal_error", status=500)
    stuck.set()
    fake.wait_for(lambda: bool(fake.calls_to("chat.postMessage")))

    clock.now += HAND_BACK_DELAY
    runtime.tenants.tick(clock.now)  # another replica's scheduler
    assert [c["text"] for c in cards(fake, ALICE)] == [cards(fake, ALICE)[0]["text"]]
    assert "Offline mode" in cards(fake, ALICE)[0]["text"]
    settled = _card_send(runtime)
    assert settled is not None and settled.status is SendStatus.SENT


def test_a_stop_with_nothing_in_flight_is_prompt_and_hands_back_nothing(
    replica: Runtime, fake: FakeSlack
) -> None:
    assert replica.close(grace=0.2) == 0
    assert _card_send(replica) is None
