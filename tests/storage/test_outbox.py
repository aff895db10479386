"""Outbox claims: what makes every post exactly-once across runners (SQLite and PostgreSQL)."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from storage.db import Database
from storage.events import EventStore
from storage.items import ItemStore
from storage.models import ItemKind, ItemStatus, Role, SendKind, SendStatus
from storage.outbox import OutboxStore, Send
from storage.teams import TeamStore
from storage.workspaces import WorkspaceStore
from tests.conftest import WORKSPACE
from tests.storage.test_items import new_item

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
STALE = NOW - timedelta(minutes=10)


def reminders(*keys: str) -> list[Send]:
    return [Send(key, SendKind.REMINDER) for key in keys]


def test_a_key_is_won_once_however_many_claim_it_at_once(db: Database) -> None:
    keys = reminders(*(f"milestone:{n}:2026-12-01:2026-11-30" for n in range(20)))
    stores = [OutboxStore(Database(db.engine), WORKSPACE) for _ in range(6)]
    start = threading.Barrier(len(stores))

    def claim(sends: OutboxStore) -> list[str]:
        start.wait()
        return list(sends.claim(keys, "C1", NOW, STALE, "t1"))

    with ThreadPoolExecutor(len(stores)) as pool:
        won = [key for keys_won in pool.map(claim, stores) for key in keys_won]
    assert sorted(won) == sorted(send.key for send in keys)


def test_failed_sends_are_claimed_again_and_sent_ones_never(db: Database) -> None:
    sends = OutboxStore(db, WORKSPACE)
    assert sends.claim(reminders("a", "b"), "C1", NOW, STALE, "t1") == {"a": [], "b": []}
    sends.record_failed(["a"], NOW, maybe_posted=True)  # a 5xx: t1 may be in Slack
    sends.record_sent(["b"], "C1", "1700000001.000100", NOW)

    later = NOW + timedelta(seconds=59)
    assert sends.claim(reminders("a", "b"), "C1", later, STALE, "t2") == {}
    # a retry learns the tags of attempts that may have reached Slack, to look for them first
    later = NOW + timedelta(minutes=1)
    assert sends.claim(reminders("a", "b"), "C1", later, STALE, "t3") == {"a": ["t1"]}
    again = sends.get("a")
    assert again is not None and again.attempts == 2 and again.status is SendStatus.CLAIMED
    assert (again.post_tag, again.retry_at) == ("t3", None)
    sends.record_failed(["a"], NOW, maybe_posted=False)  # Slack refused t3: nothing to find
    assert sends.claim(reminders("a"), "C1", NOW + timedelta(minutes=1), STALE, "t4") == {}
    assert sends.claim(reminders("a"), "C1", NOW + timedelta(minutes=2), STALE, "t5") == {
        "a": ["t1"]
    }
    sends.record_failed(["a"], NOW, maybe_posted=True)
    assert sends.claim(reminders("a"), "C1", NOW + timedelta(hours=1), STALE, "t6") == {
        "a": ["t1", "t5"]
    }
    assert sends.settled(["a", "b", "c"]) == {"b"}
    sent = sends.get("b")
    assert sent is not None and (sent.channel_id, sent.message_ts) == ("C1", "1700000001.000100")


def test_a_claim_whose_runner_died_is_taken_over_after_the_lease(db: Database) -> None:
    sends = OutboxStore(db, WORKSPACE)
    assert sends.claim(reminders("a"), "C1", NOW, STALE, "t1") == {"a": []}
    assert sends.claim(reminders("a"), "C1", NOW + timedelta(minutes=5), STALE, "t2") == {}
    later = NOW + timedelta(minutes=11)
    # the runner that died may have posted t1 before it died
    assert sends.claim(reminders("a"), "C1", later, later - timedelta(minutes=10), "t3") == {
        "a": ["t1"]
    }


def test_failing_does_not_undo_a_send_another_runner_recorded(db: Database) -> None:
    sends = OutboxStore(db, WORKSPACE)
    sends.claim(reminders("a"), "C1", NOW, STALE, "t1")
    sends.record_sent(["a"], "C1", "1.1", NOW)
    sends.record_failed(["a"], NOW, maybe_posted=True)
    assert sends.settled(["a"]) == {"a"}


def test_queued_rows_are_claimed_at_once_and_never_twice(db: Database) -> None:
    sends = OutboxStore(db, WORKSPACE)
    [send] = reminders("a")
    sends.queue([(send, "C1")], NOW)
    sends.queue([(send, "C9")], NOW)  # already there: left as it is
    assert sends.claim(reminders("a"), "C1", NOW, STALE, "t1") == {"a": []}
    assert sends.claim(reminders("a"), "C1", NOW, STALE, "t2") == {}
    queued = sends.get("a")
    assert queued is not None and (queued.destination, queued.post_tag) == ("C1", "t1")


def test_cards_are_found_by_item_retried_while_open_and_missed_when_never_claimed(
    db: Database,
) -> None:
    sends, items = OutboxStore(db, WORKSPACE), ItemStore(db, WORKSPACE)
    waited, _ = items.file(new_item("waited", at=NOW - timedelta(hours=2)))
    TeamStore(db, WORKSPACE).assign("C1", "U1", Role.PRODUCT, "U1", NOW - timedelta(hours=1))
    posted, _ = items.file(new_item("posted", at=NOW))
    failing, _ = items.file(new_item("failing", at=NOW))
    never, _ = items.file(new_item("never", at=NOW + timedelta(minutes=1)))
    assert waited.id and posted.id and failing.id and never.id

    def card(item_id: int, recipient: str) -> Send:
        return Send(f"card:{item_id}:{recipient}", SendKind.CARD, item_id)

    sends.claim([card(posted.id, "U1")], "U1", NOW, STALE, "t1")
    sends.record_sent([f"card:{posted.id}:U1"], "D1", "10.1", NOW)
    sends.claim([card(failing.id, "U1")], "U1", NOW, STALE, "t2")
    assert sends.to_retry(SendKind.CARD, NOW, STALE) == []  # in flight
    sends.record_failed([f"card:{failing.id}:U1"], NOW, maybe_posted=False)

    assert [(s.channel_id, s.message_ts) for s in sends.posted_cards(posted.id)] == [("D1", "10.1")]
    assert sends.posted_cards(failing.id) == []
    waiting = items.waiting_for_owner("C1", ItemKind.FEEDBACK, 10)
    assert [q.item.text for q in waiting] == ["waited", "failing", "never"]
    later = NOW + timedelta(minutes=1)
    assert [s.post_tag for s in sends.to_retry(SendKind.CARD, later, STALE)] == ["t2"]
    window = (NOW - timedelta(days=1), NOW + timedelta(minutes=2))
    # "waited" was filed before anyone held the role: never due a card, never recovered as one.
    assert [i.text for i in items.never_carded(*window, 10)] == ["never"]
    items.transition(failing.id, [ItemStatus.OPEN], ItemStatus.DECLINED, "U1", NOW)
    assert sends.to_retry(SendKind.CARD, later, STALE) == []  # a closed item's card is dropped


def test_event_ids_are_recorded_once_and_old_ones_pruned(db: Database) -> None:
    events = EventStore(db, WORKSPACE)
    assert events.record_first("Ev1", NOW - timedelta(days=2))
    assert not events.record_first("Ev1", NOW)
    assert events.record_first("Ev2", NOW)
    assert WorkspaceStore(db).forget_requests(NOW - timedelta(days=1)) == 1
    assert events.record_first("Ev1", NOW)
    assert not events.record_first("Ev2", NOW)


def test_the_newest_tags_are_looked_for_when_many_attempts_may_have_reached_slack(
    db: Database,
) -> None:
    sends = OutboxStore(db, WORKSPACE)
    at = NOW
    for n in range(13):  # thirteen attempts, each answered 5xx
        assert sends.claim(reminders("a"), "C1", at, at - timedelta(minutes=10), f"{n:016d}")
        sends.record_failed(["a"], at, maybe_posted=True)
        at += timedelta(hours=1)
    won = sends.claim(reminders("a"), "C1", at, at - timedelta(minutes=10), "z" * 16)
    assert won["a"] == [f"{n:016d}" for n in range(3, 13)]  # the ten newest
