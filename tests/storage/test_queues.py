"""Queues a page at a time (SQLite and PostgreSQL): keyset pages that neither skip nor repeat a
row, whatever the order and however many rows share a time; filters; counts; streams."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from storage.db import Database
from storage.items import ItemStore
from storage.models import Item, ItemKind, ItemStatus
from storage.queues import QueueOrder, QueueQuery, QueueStore, valid_cursor
from tests.conftest import WORKSPACE

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
OPEN = (ItemStatus.OPEN,)


def add(
    items: ItemStore,
    text: str = "x",
    *,
    at: datetime = NOW,
    team: str = "C1",
    kind: ItemKind = ItemKind.FEEDBACK,
    status: ItemStatus = ItemStatus.OPEN,
    **fields: Any,
) -> int:
    item = Item(
        kind=kind,
        team_channel_id=team,
        text=text,
        reporter_id="U1",
        status=status,
        created_at=at,
        updated_at=at,
        **fields,
    )
    filed, _ = items.file(item)
    assert filed.id is not None
    return filed.id


def every_page(queues: QueueStore, query: QueueQuery, size: int) -> list[list[int]]:
    pages: list[list[int]] = []
    after: str | None = None
    while True:
        page = queues.page(query, size, after)
        pages.append([entry.item.id or 0 for entry in page.entries])
        if page.after is None:
            return pages
        after = page.after


@pytest.mark.parametrize("order", list(QueueOrder))
def test_pages_neither_skip_nor_repeat_rows_that_share_a_time(
    db: Database, order: QueueOrder
) -> None:
    items, queues = ItemStore(db, WORKSPACE), QueueStore(db, WORKSPACE)
    # 23 rows in three instants (7, 8, 8): a page boundary falls inside each group.
    ids = [
        add(items, f"n{n}", at=NOW + timedelta(minutes=n % 3), vote_count=n % 4) for n in range(23)
    ]
    query = QueueQuery(("C1",), ItemKind.FEEDBACK, OPEN, order=order)
    pages = every_page(queues, query, 5)
    assert [len(p) for p in pages] == [5, 5, 5, 5, 3]
    seen = [item_id for page in pages for item_id in page]
    assert sorted(seen) == sorted(ids)  # every row once
    rows = {item_id: n for n, item_id in enumerate(ids)}
    if order is QueueOrder.OLDEST:
        expected = sorted(ids, key=lambda i: (rows[i] % 3, i))
    elif order is QueueOrder.NEWEST:
        expected = sorted(ids, key=lambda i: (-(rows[i] % 3), -i))
    else:
        expected = sorted(ids, key=lambda i: (-(rows[i] % 4), -i))  # ties newest first
    assert seen == expected
    assert queues.count(query) == 23


def test_the_last_full_page_has_no_cursor(db: Database) -> None:
    items, queues = ItemStore(db, WORKSPACE), QueueStore(db, WORKSPACE)
    for n in range(10):
        add(items, f"n{n}", at=NOW + timedelta(seconds=n))
    query = QueueQuery(("C1",), ItemKind.FEEDBACK, OPEN)
    assert [len(p) for p in every_page(queues, query, 5)] == [5, 5]
    assert queues.page(query, 10).after is None
    assert queues.page(QueueQuery(("C9",), ItemKind.FEEDBACK, OPEN), 10).entries == []


def test_filters_by_status_kind_team_tag_and_literal_words(db: Database) -> None:
    items, queues = ItemStore(db, WORKSPACE), QueueStore(db, WORKSPACE)
    percent = add(items, "100% of users", tags=" pricing ")
    underscore = add(items, "the snake_case API", tags=" api pricing-v2 ")
    titled = add(items, "body text", title="Dark MODE please")
    add(items, "1000 of users")  # `%` is not a wildcard: does not match "100%"
    add(items, "snakeXcase")  # nor is `_`
    add(items, "100% planned", status=ItemStatus.PLANNED)
    add(items, "100% blocker", kind=ItemKind.BLOCKER)
    add(items, "100% elsewhere", team="C2")
    ItemStore(db, "T0OTHER").file(
        Item(
            kind=ItemKind.FEEDBACK,
            team_channel_id="C1",
            text="100% other workspace",
            reporter_id="U1",
            tags=" pricing ",
            created_at=NOW,
            updated_at=NOW,
        )
    )

    def ids(**wanted: object) -> list[int]:
        query = QueueQuery(("C1",), ItemKind.FEEDBACK, OPEN, **wanted)  # type: ignore[arg-type]
        assert queues.count(query) == len(queues.page(query, 50).entries)
        return [entry.item.id or 0 for entry in queues.page(query, 50).entries]

    assert ids(words="100%") == [percent]
    assert ids(words="SNAKE_case") == [underscore]
    assert ids(words="dark mode") == [titled]  # the title counts too
    assert ids(tag="pricing") == [percent]  # a whole tag: not "pricing-v2"
    assert ids(tag="pricing-v2") == [underscore]
    assert ids(tag="pricing", words="users") == [percent]
    assert ids(tag="nothing") == []
    both = QueueQuery(("C1",), ItemKind.FEEDBACK, (ItemStatus.OPEN, ItemStatus.PLANNED))
    assert queues.count(both) == 6


def test_a_stream_reads_every_row_a_page_at_a_time(db: Database) -> None:
    items, queues = ItemStore(db, WORKSPACE), QueueStore(db, WORKSPACE)
    ids = [add(items, f"n{n}", at=NOW + timedelta(seconds=n // 2)) for n in range(12)]
    query = QueueQuery(("C1",), ItemKind.FEEDBACK, OPEN)
    assert [entry.item.id for entry in queues.stream(query, page_size=5)] == ids


def test_a_forged_cursor_starts_from_the_top_and_is_told_apart(db: Database) -> None:
    items, queues = ItemStore(db, WORKSPACE), QueueStore(db, WORKSPACE)
    first = add(items)
    query = QueueQuery(("C1",), ItemKind.FEEDBACK, OPEN)
    assert [e.item.id for e in queues.page(query, 5, "garbage|x").entries] == [first]
    made = f"{NOW.isoformat()}|{first}"
    assert valid_cursor(made, QueueOrder.OLDEST)
    assert valid_cursor("3|12", QueueOrder.MOST_VOTED)
    for forged in [
        "garbage",
        "garbage|1",
        f"{NOW.isoformat()}|",
        f"{NOW.isoformat()}|-1",
        f"{NOW.isoformat()}|{'9' * 19}",  # past a 64-bit id
        "2026-11-02T09:00:00|1",  # a time without its zone
        f"{NOW.isoformat()}|1|2",
        "x" * 100 + "|1",
    ]:
        assert not valid_cursor(forged, QueueOrder.OLDEST), forged
    assert not valid_cursor(made, QueueOrder.MOST_VOTED)
