"""Queues read a page at a time: lists, App Home, exports and duplicate candidates.

A team may hold 100,000 items: every read here is one indexed page (keyset: "after this row",
never OFFSET) or one count, so a list, a Home view or an export costs the same however long
the queue is, and an export streams in pages instead of holding the queue in memory.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, func, or_
from sqlmodel import col, select

from storage.db import Database
from storage.items import QueuedItem
from storage.models import Item, ItemKind, ItemStatus

EXPORT_PAGE = 500


class QueueOrder(StrEnum):
    OLDEST = "oldest"  # waiting longest first
    NEWEST = "newest"
    MOST_VOTED = "votes"  # most +1s first, then oldest


@dataclass(frozen=True)
class QueueQuery:
    """Which items of which teams: a kind, its statuses, and optionally a #tag and words that
    must appear in the text (matched literally, case-insensitively)."""

    teams: tuple[str, ...]
    kind: ItemKind
    statuses: tuple[ItemStatus, ...]
    tag: str | None = None
    words: str | None = None
    order: QueueOrder = QueueOrder.OLDEST
    reporter_id: str | None = None


@dataclass(frozen=True)
class Page:
    """One page of items, and the cursor of the next (None: this was the last)."""

    entries: list[QueuedItem] = field(default_factory=list)
    after: str | None = None


def _literal(text: str) -> str:
    """`text` lowercased for a LIKE pattern, with LIKE's own wildcards taken literally."""
    return text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _cursor(item: Item, order: QueueOrder) -> str:
    if order is QueueOrder.MOST_VOTED:
        return f"{item.vote_count}|{item.id}"
    return f"{item.created_at.isoformat()}|{item.id}"


def _after(cursor: str, order: QueueOrder) -> Any:
    """The condition "comes after the row the cursor names" in the query's order. A cursor
    that does not parse (a forged button value) starts from the top."""
    position, _, raw_id = cursor.partition("|")
    try:
        last_id = int(raw_id)
        if order is QueueOrder.MOST_VOTED:
            votes = int(position)
            return or_(
                col(Item.vote_count) < votes,
                and_(col(Item.vote_count) == votes, col(Item.id) > last_id),
            )
        at = datetime.fromisoformat(position)
    except ValueError:
        return None
    if order is QueueOrder.NEWEST:
        return or_(
            col(Item.created_at) < at, and_(col(Item.created_at) == at, col(Item.id) < last_id)
        )
    return or_(col(Item.created_at) > at, and_(col(Item.created_at) == at, col(Item.id) > last_id))


_ORDER_BY = {
    QueueOrder.OLDEST: (col(Item.created_at), col(Item.id)),
    QueueOrder.NEWEST: (col(Item.created_at).desc(), col(Item.id).desc()),
    QueueOrder.MOST_VOTED: (col(Item.vote_count).desc(), col(Item.id)),
}


class QueueStore:
    def __init__(self, db: Database, workspace_id: str) -> None:
        self.db = db
        self.workspace_id = workspace_id

    def page(self, query: QueueQuery, limit: int, after: str | None = None) -> Page:
        """Up to `limit` items in the query's order, from after the cursor."""
        if not query.teams and query.reporter_id is None:
            return Page()
        statement = select(Item).where(*self._where(query))
        if after:
            position = _after(after, query.order)
            if position is not None:
                statement = statement.where(position)
        statement = statement.order_by(*_ORDER_BY[query.order]).limit(limit + 1)
        with self.db.session() as session:
            rows = list(session.exec(statement))
        shown = rows[:limit]
        more = len(rows) > limit and shown
        return Page(
            [QueuedItem(item, item.vote_count) for item in shown],
            _cursor(shown[-1], query.order) if more else None,
        )

    def count(self, query: QueueQuery) -> int:
        if not query.teams and query.reporter_id is None:
            return 0
        statement = select(func.count()).select_from(Item).where(*self._where(query))
        with self.db.session() as session:
            return int(session.exec(statement).one())

    def counts(self, teams: Sequence[str], kind: ItemKind) -> dict[ItemStatus, int]:
        """How many of the teams' items of one kind are in each status (one grouped count)."""
        if not teams:
            return {}
        statement = (
            select(Item.status, func.count())
            .where(
                col(Item.workspace_id) == self.workspace_id,
                col(Item.team_channel_id).in_(list(teams)),
                col(Item.kind) == kind,
            )
            .group_by(col(Item.status))
        )
        with self.db.session() as session:
            return {ItemStatus(status): int(n) for status, n in session.exec(statement)}

    def stream(self, query: QueueQuery, page_size: int = EXPORT_PAGE) -> Iterator[QueuedItem]:
        """Every item the query matches, read a page at a time (an export)."""
        after: str | None = None
        while True:
            page = self.page(query, page_size, after)
            yield from page.entries
            if page.after is None:
                return
            after = page.after

    def _where(self, query: QueueQuery) -> list[Any]:
        where: list[Any] = [
            col(Item.workspace_id) == self.workspace_id,
            col(Item.kind) == query.kind,
            col(Item.status).in_(list(query.statuses)),
        ]
        if query.teams:
            where.append(col(Item.team_channel_id).in_(list(query.teams)))
        if query.reporter_id is not None:
            where.append(col(Item.reporter_id) == query.reporter_id)
        if query.tag:
            where.append(col(Item.tags).like(f"% {_literal(query.tag)} %", escape="\\"))
        if query.words:
            pattern = f"%{_literal(query.words)}%"
            where.append(func.lower(col(Item.text)).like(pattern, escape="\\"))
        return where
