"""Items: filed once per source message, +1s, status changes, queues (SQLite and PostgreSQL)."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from storage.db import Database
from storage.items import ItemStore, NotMergeable
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


def test_a_button_for_one_kind_does_nothing_once_the_item_moved_queue(db: Database) -> None:
    """Plan pressed on feedback that a Move to blockers just re-routed: no planned blocker."""
    items = ItemStore(db, WORKSPACE)
    item, _ = items.file(new_item())
    assert item.id is not None
    feedback, blocker = ItemKind.FEEDBACK, ItemKind.BLOCKER
    open_ = [ItemStatus.OPEN]
    assert items.transition(item.id, open_, ItemStatus.OPEN, "U2", NOW, kind=blocker)
    planned = items.transition(item.id, open_, ItemStatus.PLANNED, "U2", NOW, of_kind=feedback)
    moved = items.get(item.id)
    assert not planned and moved is not None
    assert (moved.kind, moved.status) == (blocker, ItemStatus.OPEN)


def test_a_merge_carries_votes_once_and_never_makes_a_loop(db: Database) -> None:
    items = ItemStore(db, WORKSPACE)
    original, _ = items.file(new_item("original", reporter="U1"))
    duplicate, _ = items.file(new_item("copy", reporter="U2"))
    other, _ = items.file(new_item("another copy", reporter="U3"))
    assert original.id and duplicate.id and other.id
    items.add_vote(original.id, "U4", NOW)
    items.add_vote(duplicate.id, "U4", NOW)  # already counted on the original
    items.add_vote(duplicate.id, "U1", NOW)  # the original's own reporter
    waiting = [ItemStatus.OPEN]

    assert items.merge(duplicate.id, original.id, waiting, "U9", NOW, "item_duplicate")
    assert sorted(items.voters(original.id)) == ["U2", "U4"]
    assert items.votes(original.id) == 2
    assert not items.merge(duplicate.id, original.id, waiting, "U9", NOW, "item_duplicate")
    with pytest.raises(NotMergeable):  # into an item merged itself: never a loop
        items.merge(original.id, duplicate.id, waiting, "U9", NOW, "item_duplicate")
    items.transition(original.id, waiting, ItemStatus.PLANNED, "U9", NOW)
    with pytest.raises(NotMergeable):  # into a closed item: its +1s would never hear
        items.merge(other.id, original.id, waiting, "U9", NOW, "item_duplicate")
    with pytest.raises(NotMergeable):
        items.merge(other.id, other.id, waiting, "U9", NOW, "item_duplicate")
    assert items.votes(original.id) == 2


def test_each_status_change_counts_a_revision_a_reassignment_none(db: Database) -> None:
    items = ItemStore(db, WORKSPACE)
    item, _ = items.file(new_item(kind=ItemKind.BLOCKER))
    assert item.id is not None
    items.transition(item.id, [ItemStatus.OPEN], ItemStatus.ACKNOWLEDGED, "U2", NOW)
    items.transition(item.id, [ItemStatus.ACKNOWLEDGED], None, "U3", NOW, assignee_id="U4")
    changed = items.get(item.id)
    assert changed is not None
    assert (changed.revision, changed.handled_by, changed.assignee_id) == (1, "U2", "U4")
