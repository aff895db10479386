"""New feedback is compared with the team's most +1'd open items as well as its newest: the old
request everyone +1s is the one most often asked again (SQLite and PostgreSQL)."""

from datetime import timedelta

from sqlalchemy import event

from bot.lookalikes import CANDIDATES, Lookalikes
from storage.db import Database
from storage.items import ItemStore
from storage.queues import QueueStore
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
