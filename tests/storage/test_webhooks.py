"""Webhook endpoints and their outbox rows (SQLite and PostgreSQL)."""

from datetime import UTC, datetime, timedelta

from storage.db import Database
from storage.models import SendKind, SendStatus, Webhook
from storage.outbox import OutboxStore, Send
from storage.webhooks import WebhookStore
from tests.conftest import WORKSPACE

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
STALE = NOW - timedelta(minutes=10)


def endpoint(
    url: str = "https://hooks.example.com/in",
    team: str = "C1",
    events: str = "item.filed item.status_changed",
) -> Webhook:
    return Webhook(
        team_channel_id=team,
        url=url,
        secret="whsec_secret",
        events=events,
        created_by="U1",
        created_at=NOW,
    )


def delivery(endpoint_id: int | None, event_key: str = "item.filed:1") -> tuple[Send, str]:
    key = f"webhook:{endpoint_id}:{event_key}"
    return Send(key, SendKind.WEBHOOK, message={"id": "msg_1"}), str(endpoint_id)


def test_a_team_has_one_endpoint_per_url_and_reads_them_back(db: Database) -> None:
    hooks = WebhookStore(db, WORKSPACE)
    first = hooks.add(endpoint())
    assert first is not None and first.id is not None
    assert hooks.add(endpoint()) is None  # the same URL again
    assert hooks.add(endpoint(team="C2")) is not None  # another team may use it
    second = hooks.add(endpoint("https://hooks.example.com/other", events="milestone.done"))
    assert second is not None

    assert [h.id for h in hooks.for_team("C1")] == [first.id, second.id]
    found = hooks.get(first.id)
    assert found is not None
    assert (found.workspace_id, found.url, found.secret, found.active) == (
        WORKSPACE,
        "https://hooks.example.com/in",
        "whsec_secret",
        True,
    )
    assert "whsec_secret" not in repr(found) and "hooks.example.com" not in repr(found)


def test_only_active_endpoints_that_asked_for_an_event_are_subscribed(db: Database) -> None:
    hooks = WebhookStore(db, WORKSPACE)
    items = hooks.add(endpoint("https://a.example.com/"))
    milestones = hooks.add(endpoint("https://b.example.com/", events="milestone.done"))
    both = hooks.add(endpoint("https://c.example.com/", events="item.filed milestone.done"))
    assert items and milestones and both and items.id and both.id

    assert [h.id for h in hooks.subscribed("C1", "item.filed")] == [items.id, both.id]
    assert hooks.subscribed("C1", "item") == []  # names match exactly, not by prefix
    assert hooks.subscribed("C2", "item.filed") == []

    assert hooks.disable(items.id, "410 Gone: the receiver asked us to stop")
    assert not hooks.disable(items.id, "again")  # the first reason stays
    assert [h.id for h in hooks.subscribed("C1", "item.filed")] == [both.id]
    disabled = hooks.get(items.id)
    assert disabled is not None and not disabled.active
    assert disabled.disabled_reason == "410 Gone: the receiver asked us to stop"


def test_removing_an_endpoint_drops_its_deliveries_and_only_its_own(db: Database) -> None:
    hooks, sends = WebhookStore(db, WORKSPACE), OutboxStore(db, WORKSPACE)
    gone = hooks.add(endpoint("https://a.example.com/"))
    kept = hooks.add(endpoint("https://b.example.com/"))
    assert gone and kept and gone.id and kept.id
    # Endpoint 1's prefix must not catch endpoint 10's or 1x's keys: ids are matched whole.
    sends.queue([delivery(gone.id), delivery(kept.id), delivery(int(f"{gone.id}0"))], NOW)
    sends.queue([(Send("notice:other", SendKind.NOTICE), "U1")], NOW)

    assert not hooks.remove("C2", gone.id)  # another team's id
    assert hooks.remove("C1", gone.id)
    assert not hooks.remove("C1", gone.id)

    assert hooks.get(gone.id) is None
    assert sends.get(f"webhook:{gone.id}:item.filed:1") is None
    assert sends.get(f"webhook:{kept.id}:item.filed:1") is not None
    assert sends.get(f"webhook:{gone.id}0:item.filed:1") is not None
    assert sends.get("notice:other") is not None


def test_an_id_is_never_given_again_after_its_endpoint_is_removed(db: Database) -> None:
    """A delivery queued while its endpoint was being removed must find nothing by that id."""
    hooks = WebhookStore(db, WORKSPACE)
    newest = hooks.add(endpoint("https://a.example.com/"))
    assert newest is not None and newest.id is not None
    assert hooks.remove("C1", newest.id)
    again = hooks.add(endpoint("https://a.example.com/"))
    assert again is not None and again.id is not None and again.id > newest.id


def test_another_workspace_never_sees_reads_or_changes_them(db: Database) -> None:
    mine, theirs = WebhookStore(db, WORKSPACE), WebhookStore(db, "T0002")
    added = mine.add(endpoint())
    assert added is not None and added.id is not None
    mine_sends = OutboxStore(db, WORKSPACE)
    mine_sends.queue([delivery(added.id)], NOW)

    assert theirs.add(endpoint()) is not None  # the same team id and URL: another workspace
    assert theirs.get(added.id) is None
    assert [h.workspace_id for h in theirs.for_team("C1")] == ["T0002"]
    assert [h.workspace_id for h in theirs.subscribed("C1", "item.filed")] == ["T0002"]
    assert not theirs.disable(added.id, "no")
    assert not theirs.remove("C1", added.id)
    assert mine.get(added.id) is not None
    assert mine_sends.get(f"webhook:{added.id}:item.filed:1") is not None


def test_a_delivery_settled_for_good_is_never_claimed_again(db: Database) -> None:
    sends = OutboxStore(db, WORKSPACE)
    (sent, to), (dead, _) = delivery(1, "item.filed:1"), delivery(1, "item.filed:2")
    assert set(sends.claim([sent, dead], to, NOW, STALE, "")) == {sent.key, dead.key}
    sends.record_final([sent.key], SendStatus.SENT, NOW)
    sends.record_final([dead.key], SendStatus.DEAD, NOW)

    later = NOW + timedelta(days=1)
    assert sends.to_retry(SendKind.WEBHOOK, later, later - timedelta(minutes=10)) == []
    assert sends.claim([sent, dead], to, later, later, "") == {}
    settled_sent, settled_dead = sends.get(sent.key), sends.get(dead.key)
    assert settled_sent is not None and settled_dead is not None
    assert (settled_sent.status, settled_sent.sent_at) == (SendStatus.SENT, NOW)
    assert (settled_dead.status, settled_dead.sent_at) == (SendStatus.DEAD, None)
    assert settled_dead.message == {"id": "msg_1"}  # the body is kept


def test_retries_are_handed_out_oldest_first_a_few_at_a_time(db: Database) -> None:
    sends = OutboxStore(db, WORKSPACE)
    for n in range(5):
        sends.queue([delivery(1, f"item.filed:{n}")], NOW + timedelta(seconds=n))
    due = NOW + timedelta(minutes=1)
    owed = sends.to_retry(SendKind.WEBHOOK, due, STALE, limit=3)
    assert [o.key for o in owed] == [f"webhook:1:item.filed:{n}" for n in range(3)]
    assert all(o.status is SendStatus.QUEUED and o.destination == "1" for o in owed)
