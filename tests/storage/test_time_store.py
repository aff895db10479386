"""Claims that make scheduled sends exactly-once, and the digest queries (SQLite and PostgreSQL)."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine

from storage.models import ItemKind, ItemStatus, Milestone, SendStatus
from storage.store import Store
from tests.storage.test_store import new_item

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
STALE = NOW - timedelta(minutes=10)


def test_a_key_is_won_once_however_many_claim_it_at_once(engine: Engine) -> None:
    keys = [f"milestone:{n}:2026-12-01:2026-11-30" for n in range(20)]
    stores = [Store(engine) for _ in range(6)]
    start = threading.Barrier(len(stores))

    def claim(store: Store) -> list[str]:
        start.wait()
        return list(store.claim_sends(keys, "C1", NOW, STALE, "t1"))

    with ThreadPoolExecutor(len(stores)) as pool:
        won = [key for keys_won in pool.map(claim, stores) for key in keys_won]
    assert sorted(won) == sorted(keys)


def test_failed_sends_are_claimed_again_and_sent_ones_never(store: Store) -> None:
    assert store.claim_sends(["a", "b"], "C1", NOW, STALE, "t1") == {"a": "", "b": ""}
    store.record_failed(["a"], NOW)
    store.record_sent(["b"], "1700000001.000100", NOW)

    assert store.claim_sends(["a", "b"], "C1", NOW + timedelta(seconds=59), STALE, "t2") == {}
    # a retry learns the tag of the attempt before, to look for it in Slack first
    assert store.claim_sends(["a", "b"], "C1", NOW + timedelta(minutes=1), STALE, "t3") == {
        "a": "t1"
    }
    again = store.send("a")
    assert again is not None and again.attempts == 2 and again.status == SendStatus.CLAIMED
    assert (again.post_tag, again.earlier_tag) == ("t3", "t1")
    store.record_failed(["a"], NOW)  # the second failure waits two minutes
    assert store.claim_sends(["a"], "C1", NOW + timedelta(minutes=1), STALE, "t4") == {}
    assert store.claim_sends(["a"], "C1", NOW + timedelta(minutes=2), STALE, "t5") == {"a": "t3"}
    assert store.settled(["a", "b", "c"]) == {"b"}
    sent = store.send("b")
    assert sent is not None and sent.message_ts == "1700000001.000100"


def test_a_claim_whose_runner_died_is_taken_over_after_the_lease(store: Store) -> None:
    assert store.claim_sends(["a"], "C1", NOW, STALE, "t1") == {"a": ""}
    assert store.claim_sends(["a"], "C1", NOW + timedelta(minutes=5), STALE, "t2") == {}
    later = NOW + timedelta(minutes=11)
    assert store.claim_sends(["a"], "C1", later, later - timedelta(minutes=10), "t3") == {"a": "t1"}


def test_failing_does_not_undo_a_send_another_runner_recorded(store: Store) -> None:
    store.claim_sends(["a"], "C1", NOW, STALE, "t1")
    store.record_sent(["a"], "1.1", NOW)
    store.record_failed(["a"], NOW)
    assert store.settled(["a"]) == {"a"}


def _milestone(store: Store, name: str, due: date, team: str = "C1") -> Milestone:
    milestone = Milestone(
        team_channel_id=team,
        name=name,
        name_key=name.lower(),
        due_date=due,
        created_by="U1",
        created_at=NOW,
        scheduled_at=NOW,
    )
    assert store.add_milestone(milestone)
    return milestone


def test_milestone_names_are_unique_per_team_and_blockers_put_them_at_risk(store: Store) -> None:
    beta = _milestone(store, "Beta", date(2026, 12, 5))
    _milestone(store, "GA", date(2026, 12, 20))
    _milestone(store, "Beta", date(2026, 12, 5), team="C2")
    assert not store.add_milestone(
        Milestone(
            team_channel_id="C1",
            name="BETA",
            name_key="beta",
            due_date=date(2026, 12, 9),
            created_by="U1",
            created_at=NOW,
            scheduled_at=NOW,
        )
    )
    blocker, _ = store.file_item(new_item("keys", kind=ItemKind.BLOCKER))
    assert beta.id is not None and blocker.id is not None
    store.link_blocker(blocker.id, beta.id)

    tracked = store.tracked_milestones("C1")
    assert [(t.milestone.name, t.at_risk) for t in tracked] == [("Beta", True), ("GA", False)]
    store.transition(blocker.id, [ItemStatus.OPEN], ItemStatus.RESOLVED, "U2", NOW)
    assert [t.at_risk for t in store.tracked_milestones("C1")] == [False, False]
    assert store.close_milestone(beta.id, "U2", NOW)
    assert not store.close_milestone(beta.id, "U2", NOW)
    assert [t.milestone.name for t in store.tracked_milestones("C1")] == ["GA"]


def test_product_digest_counts_and_orders(store: Store) -> None:
    week_ago = NOW - timedelta(days=7)
    old, _ = store.file_item(new_item("old", at=NOW - timedelta(days=30)))
    for n in range(8):
        store.file_item(new_item(f"new {n}", at=NOW - timedelta(days=1, minutes=n)))
    popular, _ = store.file_item(new_item("popular", at=NOW - timedelta(hours=2)))
    assert popular.id is not None and old.id is not None
    for voter in ("U7", "U8", "U9"):
        store.add_vote(popular.id, voter, NOW)
    store.transition(old.id, [ItemStatus.OPEN], ItemStatus.PLANNED, "U2", NOW)

    digest = store.product_digest("C1", week_ago, limit=3)

    assert digest.filed_by_status == {"open": 9}
    assert [q.item.text for q in digest.filed] == ["popular", "new 0", "new 1"]
    assert digest.waiting.total == 9
    assert [q.item.text for q in digest.waiting.shown] == ["new 7", "new 6", "new 5"]
    assert [(q.item.text, q.votes) for q in digest.most_voted] == [("popular", 3)]
