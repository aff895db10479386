"""Items: filed once per source message, +1s, status changes, queues (SQLite and PostgreSQL)."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from storage.db import Database
from storage.items import ItemStore
from storage.models import Item, ItemKind, ItemStatus
from tests.conftest import WORKSPACE

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


def test_the_same_source_message_is_filed_once_even_when_racing(db: Database) -> None:
    items = ItemStore(db, WORKSPACE)

    def file(reporter: str) -> bool:
        return items.file(new_item(source_ts="1.5", reporter=reporter))[1]

    with ThreadPoolExecutor(max_workers=4) as pool:
        created = list(pool.map(file, ["U1", "U2", "U3", "U4"]))

    assert created.count(True) == 1
    assert len(items.open_queue("C1", ItemKind.FEEDBACK)) == 1
    blocker, made = items.file(new_item(kind=ItemKind.BLOCKER, source_ts="1.5"))
    assert made and blocker.kind is ItemKind.BLOCKER


def test_items_without_a_source_message_are_never_merged(db: Database) -> None:
    items = ItemStore(db, WORKSPACE)
    assert items.file(new_item("a"))[1]
    assert items.file(new_item("a"))[1]
    assert len(items.open_queue("C1", ItemKind.FEEDBACK)) == 2


def test_votes_count_once_per_person(db: Database) -> None:
    items = ItemStore(db, WORKSPACE)
    item, _ = items.file(new_item(source_ts="2.0"))
    assert item.id is not None
    assert items.add_vote(item.id, "U2", NOW)
    assert not items.add_vote(item.id, "U2", NOW)
    assert items.add_vote(item.id, "U3", NOW)
    assert items.votes(item.id) == 2
    assert [q.votes for q in items.open_queue("C1", ItemKind.FEEDBACK)] == [2]


def test_a_transition_happens_once_when_two_managers_click_together(db: Database) -> None:
    items = ItemStore(db, WORKSPACE)
    item, _ = items.file(new_item())
    assert item.id is not None

    def plan(actor: str) -> bool:
        return items.transition(item.id or 0, [ItemStatus.OPEN], ItemStatus.PLANNED, actor, NOW)

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(plan, ["U1", "U2"]))

    assert sorted(results) == [False, True]
    stored = items.get(item.id)
    assert stored is not None and stored.status is ItemStatus.PLANNED
    assert items.open_queue("C1", ItemKind.FEEDBACK) == []


def test_open_queue_is_oldest_first_and_blockers_stay_open_until_resolved(db: Database) -> None:
    items = ItemStore(db, WORKSPACE)
    late, _ = items.file(new_item("late", kind=ItemKind.BLOCKER, at=NOW + timedelta(hours=1)))
    early, _ = items.file(new_item("early", kind=ItemKind.BLOCKER))
    assert early.id and late.id
    items.transition(early.id, [ItemStatus.OPEN], ItemStatus.ACKNOWLEDGED, "U9", NOW)
    assert [q.item.text for q in items.open_queue("C1", ItemKind.BLOCKER)] == ["early", "late"]
    items.transition(early.id, [ItemStatus.ACKNOWLEDGED], ItemStatus.RESOLVED, "U9", NOW)
    assert [q.item.text for q in items.open_queue("C1", ItemKind.BLOCKER)] == ["late"]
    assert items.open_queue("C1", ItemKind.FEEDBACK) == []


def test_rows_come_back_with_enums_and_timezone_aware_timestamps(db: Database) -> None:
    items = ItemStore(db, WORKSPACE)
    item, _ = items.file(new_item())
    assert item.id is not None
    stored = items.get(item.id)
    assert stored is not None
    assert (type(stored.kind), type(stored.status)) == (ItemKind, ItemStatus)
    assert stored.created_at == NOW and stored.created_at.tzinfo is not None
