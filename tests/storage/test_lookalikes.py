"""The candidates new feedback is compared with: read once per team a while, joined by what this
process files (SQLite and PostgreSQL)."""

from sqlalchemy import event

from bot.lookalikes import FRESH_FOR, Lookalikes
from storage.db import Database
from storage.items import ItemStore
from storage.models import ItemStatus
from storage.queues import QueueStore
from tests.conftest import WORKSPACE
from tests.storage.test_items import NOW, new_item

ASK = "Let admins export the audit log as CSV"


class Ticking:
    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(self) -> float:
        return self.seconds


def _reads(db: Database) -> list[str]:
    statements: list[str] = []
    event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    return statements


def test_a_teams_candidates_are_read_once_a_while_and_joined_by_new_filings(db: Database) -> None:
    items, clock = ItemStore(db, WORKSPACE), Ticking()
    lookalikes = Lookalikes(QueueStore(db, WORKSPACE), clock)
    original, _ = items.file(new_item(ASK))
    assert original.id is not None
    statements = _reads(db)

    assert lookalikes.original_of("C1", "let admins export the audit log as csv!") == original.id
    assert lookalikes.original_of("C1", "Dark mode for the dashboard, please") is None
    assert len(statements) == 1  # one read for both filings

    lookalikes.filed("C1", 99, "Dark mode for the dashboard")
    assert lookalikes.original_of("C1", "dark mode for the dashboard") == 99
    assert lookalikes.original_of("C2", ASK) is None  # another team: its own read, no match
    assert len(statements) == 2


def test_a_triaged_original_leaves_the_candidates_once_they_are_read_again(db: Database) -> None:
    items, clock = ItemStore(db, WORKSPACE), Ticking()
    lookalikes = Lookalikes(QueueStore(db, WORKSPACE), clock)
    original, _ = items.file(new_item(ASK))
    assert original.id is not None
    assert lookalikes.original_of("C1", ASK) == original.id
    items.transition(original.id, (ItemStatus.OPEN,), ItemStatus.DECLINED, "UPM", NOW)

    assert lookalikes.original_of("C1", ASK) == original.id  # still fresh: the card checks
    clock.seconds += FRESH_FOR
    assert lookalikes.original_of("C1", ASK) is None
