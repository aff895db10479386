"""Storage rules that keep Rolecall correct across retries and replicas (SQLite and PostgreSQL)."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect
from sqlmodel import SQLModel

from storage.db import migrate
from storage.models import Item, ItemKind, ItemStatus, Role
from storage.store import Store

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def new_item(
    text: str = "x",
    *,
    kind: ItemKind = ItemKind.FEEDBACK,
    source_ts: str | None = None,
    at: datetime = NOW,
    reporter: str = "U1",
) -> Item:
    return Item(
        kind=kind,
        team_channel_id="C1",
        text=text,
        reporter_id=reporter,
        source_channel_id="C1" if source_ts else None,
        source_ts=source_ts,
        created_at=at,
        updated_at=at,
    )


def test_migrations_are_idempotent_and_create_the_schema(engine: Engine) -> None:
    migrate(engine)
    tables = set(inspect(engine).get_table_names())
    assert {
        "item",
        "item_vote",
        "delivery",
        "role_assignment",
        "team_settings",
        "processed_event",
        "alembic_version",
    } <= tables


def test_the_migrations_build_exactly_the_schema_the_models_describe(engine: Engine) -> None:
    migrate(engine)
    with engine.connect() as connection:
        drift = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert drift == []  # a model changed without a migration (or the other way round)


def test_roles_are_per_channel_and_one_person_may_hold_both(store: Store) -> None:
    assert store.assign_role("C1", "U1", Role.PRODUCT, "U1", NOW)
    assert store.assign_role("C1", "U1", Role.PROJECT, "U1", NOW)
    assert not store.assign_role("C1", "U1", Role.PRODUCT, "U2", NOW)
    assert store.assign_role("C2", "U2", Role.PRODUCT, "U2", NOW)

    assert store.holders("C1", Role.PRODUCT) == ["U1"]
    assert store.holders("C1", Role.PROJECT) == ["U1"]
    assert store.holders("C2", Role.PROJECT) == []
    assert store.remove_role("C1", "U1", Role.PROJECT)
    assert not store.remove_role("C1", "U1", Role.PROJECT)
    assert [(a.channel_id, a.role) for a in store.roles_of_user("U1")] == [("C1", "product")]


def test_the_same_source_message_is_filed_once_even_when_racing(store: Store) -> None:
    def file(reporter: str) -> bool:
        return store.file_item(new_item(source_ts="1.5", reporter=reporter))[1]

    with ThreadPoolExecutor(max_workers=4) as pool:
        created = list(pool.map(file, ["U1", "U2", "U3", "U4"]))

    assert created.count(True) == 1
    assert len(store.open_items("C1", ItemKind.FEEDBACK)) == 1
    blocker, made = store.file_item(new_item(kind=ItemKind.BLOCKER, source_ts="1.5"))
    assert made and blocker.kind == ItemKind.BLOCKER


def test_items_without_a_source_message_are_never_merged(store: Store) -> None:
    assert store.file_item(new_item("a"))[1]
    assert store.file_item(new_item("a"))[1]
    assert len(store.open_items("C1", ItemKind.FEEDBACK)) == 2


def test_votes_count_once_per_person(store: Store) -> None:
    item, _ = store.file_item(new_item(source_ts="2.0"))
    assert item.id is not None
    assert store.add_vote(item.id, "U2", NOW)
    assert not store.add_vote(item.id, "U2", NOW)
    assert store.add_vote(item.id, "U3", NOW)
    assert store.vote_count(item.id) == 2
    assert [q.votes for q in store.open_items("C1", ItemKind.FEEDBACK)] == [2]


def test_a_transition_happens_once_when_two_managers_click_together(store: Store) -> None:
    item, _ = store.file_item(new_item())
    assert item.id is not None

    def plan(actor: str) -> bool:
        return store.transition(item.id or 0, [ItemStatus.OPEN], ItemStatus.PLANNED, actor, NOW)

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(plan, ["U1", "U2"]))

    assert sorted(results) == [False, True]
    stored = store.item(item.id)
    assert stored is not None and stored.status == ItemStatus.PLANNED
    assert store.open_items("C1", ItemKind.FEEDBACK) == []


def test_open_queue_is_oldest_first_and_blockers_stay_open_until_resolved(store: Store) -> None:
    late, _ = store.file_item(new_item("late", kind=ItemKind.BLOCKER, at=NOW + timedelta(hours=1)))
    early, _ = store.file_item(new_item("early", kind=ItemKind.BLOCKER))
    assert early.id and late.id
    store.transition(early.id, [ItemStatus.OPEN], ItemStatus.ACKNOWLEDGED, "U9", NOW)
    assert [q.item.text for q in store.open_items("C1", ItemKind.BLOCKER)] == ["early", "late"]
    store.transition(early.id, [ItemStatus.ACKNOWLEDGED], ItemStatus.RESOLVED, "U9", NOW)
    assert [q.item.text for q in store.open_items("C1", ItemKind.BLOCKER)] == ["late"]
    assert store.open_items("C1", ItemKind.FEEDBACK) == []


def test_delivery_claims_are_exclusive_and_failed_claims_are_retaken_once(store: Store) -> None:
    item, _ = store.file_item(new_item())
    assert item.id is not None
    claim = store.claim_delivery(item.id, "U1", NOW, "t1")
    assert claim is not None
    assert store.claim_delivery(item.id, "U1", NOW, "t2") is None
    assert store.deliveries(item.id) == []  # claimed but not yet posted

    store.record_delivery(claim, "D1", "10.1")
    assert store.undelivered_items("C1", ItemKind.FEEDBACK) == []
    assert [(d.channel_id, d.message_ts) for d in store.deliveries(item.id)] == [("D1", "10.1")]

    other, _ = store.file_item(new_item("other"))
    assert other.id is not None
    second = store.claim_delivery(other.id, "U1", NOW, "t3")
    assert second is not None
    assert store.deliveries_to_retry(NOW, NOW - timedelta(minutes=10)) == []  # in flight
    store.fail_delivery(second, NOW)
    assert [q.item.text for q in store.undelivered_items("C1", ItemKind.FEEDBACK)] == ["other"]
    assert store.deliveries_to_retry(NOW, NOW) == []  # backing off for a minute
    later = NOW + timedelta(minutes=1)
    # a retry posts under the claim's tag, so it can look for the earlier attempt first
    assert [(d.id, d.post_tag) for d in store.deliveries_to_retry(later, NOW)] == [(second, "t3")]
    assert store.retake_delivery(second, later, NOW)
    assert not store.retake_delivery(second, later, NOW)  # another runner got it first


def test_abandoned_claims_and_never_claimed_items_are_found(store: Store) -> None:
    abandoned, _ = store.file_item(new_item("abandoned"))
    store.file_item(new_item("never", at=NOW + timedelta(minutes=1)))
    assert abandoned.id is not None
    claim = store.claim_delivery(abandoned.id, "U1", NOW, "t1")
    lease_end = NOW + timedelta(minutes=10)
    assert store.deliveries_to_retry(lease_end, NOW) == []
    assert [d.id for d in store.deliveries_to_retry(lease_end, lease_end)] == [claim]
    window = (NOW - timedelta(days=1), NOW + timedelta(minutes=2))
    assert [i.text for i in store.never_delivered(*window)] == ["never"]


def test_event_ids_are_claimed_once_and_old_ones_pruned(store: Store) -> None:
    assert store.claim_event("Ev1", NOW - timedelta(days=2))
    assert not store.claim_event("Ev1", NOW)
    assert store.claim_event("Ev2", NOW)
    assert store.prune_events(NOW - timedelta(days=1)) == 1
    assert store.claim_event("Ev1", NOW)
    assert not store.claim_event("Ev2", NOW)


def test_settings_default_and_persist(store: Store) -> None:
    settings = store.settings("C1")
    assert (settings.feedback_emoji, settings.blocker_emoji) == ("bulb", "no_entry")
    settings.blocker_emoji = "rotating_light"
    settings.project_queue_channel = "C9"
    store.save_settings(settings)
    again = store.settings("C1")
    assert (again.blocker_emoji, again.project_queue_channel) == ("rotating_light", "C9")
    assert store.settings("C2").blocker_emoji == "no_entry"


def test_timestamps_come_back_timezone_aware(store: Store) -> None:
    item, _ = store.file_item(new_item())
    assert item.id is not None
    stored = store.item(item.id)
    assert stored is not None and stored.created_at == NOW and stored.created_at.tzinfo is not None
