"""New feedback is compared with the team's most +1'd open items as well as its newest: the old
request everyone +1s is the one most often asked again (SQLite and PostgreSQL)."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, insert

from bot.lookalikes import CANDIDATES, Lookalikes
from storage.db import Database
from storage.items import ItemStore
from storage.models import Item, ItemKind, ItemStatus
from storage.queues import QueueOrder, QueueQuery, QueueStore
from tests.conftest import WORKSPACE
from tests.storage.test_items import NOW, new_item

ASK = "Let admins export the audit log as CSV"


def test_an_old_popular_item_behind_150_newer_ones_is_suggested(db: Database) -> None:
    items = ItemStore(db, WORKSPACE)
    old, _ = items.file(new_item(ASK, at=NOW - timedelta(days=90)))
    assert old.id is not None
    for voter in ("U2", "U3", "U4", "U5", "U6"):
        assert items.add_vote(old.id, voter, NOW)
    for n in range(150):
        items.file(new_item(f"Unrelated request number {n}", at=NOW + timedelta(minutes=n)))
    statements: list[str] = []
    event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    lookalikes = Lookalikes(QueueStore(db, WORKSPACE), lambda: 0.0)

    assert lookalikes.original_of("C1", "let admins export the audit log as csv!") == old.id
    assert len(statements) == 1  # the newest and the most +1'd: one round trip


def test_the_candidates_are_the_newest_and_the_most_voted_each_once(db: Database) -> None:
    items = ItemStore(db, WORKSPACE)
    filed = [
        items.file(new_item(f"Request {n}", at=NOW + timedelta(minutes=n)))[0]
        for n in range(CANDIDATES + 20)
    ]
    ids = [item.id for item in filed if item.id is not None]
    for item_id in (ids[0], ids[-1]):  # one old, one among the newest
        assert items.add_vote(item_id, "U9", NOW)
    assert items.add_vote(ids[0], "U8", NOW)

    newest, popular = QueueStore(db, WORKSPACE).lookalike_words("C1", filed[0].kind, CANDIDATES)

    assert [item_id for item_id, _ in newest] == ids[::-1][:CANDIDATES]
    assert popular == [(ids[0], "Request 0"), (ids[-1], f"Request {CANDIDATES + 19}")]


def _voted(db: Database, start: int, count: int) -> None:
    """`count` open feedback with one +1 each: one tie as long as the queue."""
    rows = [
        {
            "workspace_id": WORKSPACE,
            "kind": ItemKind.FEEDBACK,
            "team_channel_id": "C1",
            "text": f"request {n}",
            "reporter_id": "U1",
            "status": ItemStatus.OPEN,
            "created_at": NOW + timedelta(seconds=n),
            "updated_at": NOW,
            "vote_count": 1,
            "tags": "",
            "revision": 1,
        }
        for n in range(start, start + count)
    ]
    with db.engine.begin() as connection:
        connection.execute(insert(Item), rows)


def _most_voted_page(queues: QueueStore) -> None:
    query = QueueQuery(("C1",), ItemKind.FEEDBACK, (ItemStatus.OPEN,), order=QueueOrder.MOST_VOTED)
    after = queues.page(query, 20).after
    assert after is not None
    queues.page(query, 20, after)  # and the next page, from its cursor


@pytest.mark.parametrize(
    "read",
    [lambda queues: queues.lookalike_words("C1", ItemKind.FEEDBACK, 100), _most_voted_page],
    ids=["lookalike-candidates", "most-voted-pages"],
)
def test_the_most_voted_reads_stop_after_their_rows_however_long_the_tie(
    db: Database, read: Callable[[QueueStore], object]
) -> None:
    """Every item with one +1 is one tie: ordered by the index to its last column, a read
    stops after its rows; sorted, it would read the whole queue for each."""
    if db.dialect != "sqlite":
        pytest.skip("SQLite counts the virtual machine's steps")
    queues = QueueStore(db, WORKSPACE)
    _voted(db, 0, 1_000)
    reads: list[tuple[str, Any]] = []

    def record(*args: Any) -> None:
        reads.append((args[2], args[3]))

    event.listen(db.engine, "before_cursor_execute", record)
    read(queues)
    event.remove(db.engine, "before_cursor_execute", record)

    def steps() -> int:
        counted = [0]

        def count() -> int:
            counted[0] += 1
            return 0

        with db.engine.connect() as connection:
            raw = connection.connection.driver_connection
            assert raw is not None
            raw.set_progress_handler(count, 100)
            for sql, params in reads:
                connection.exec_driver_sql(sql, params).all()
            raw.set_progress_handler(None, 100)
        return counted[0]

    short = steps()
    _voted(db, 1_000, 19_000)  # the same tie, 20 times longer
    long = steps()
    with db.engine.connect() as connection:
        for sql, params in reads:
            plan = str(connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params).all())
            assert "TEMP B-TREE" not in plan, plan
    assert long < 2 * short, (short, long)
