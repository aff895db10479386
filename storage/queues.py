"""Queues read a page at a time: lists, App Home, exports and duplicate candidates.

A team may hold 100,000 items: every read here is one indexed page (keyset: "after this row",
never OFFSET) or one count, so a list, a Home view or an export costs the same however long
the queue is, and an export streams in pages instead of holding the queue in memory.
"""

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, case, func, literal, or_, true, tuple_, union_all
from sqlalchemy import select as select_columns
from sqlmodel import col, select

from storage.db import Database
from storage.items import QueuedItem
from storage.models import OPEN_STATUSES, Item, ItemKind, ItemStatus, Milestone, WorkStatus
from storage.planning import HIGH_RISK

EXPORT_PAGE = 500
_CREATED_AT = Item.__table__.c.created_at.type  # type: ignore[attr-defined]  # its UTC handling


class QueueOrder(StrEnum):
    OLDEST = "oldest"  # waiting longest first
    NEWEST = "newest"
    MOST_VOTED = "votes"  # most +1s first, then oldest


@dataclass(frozen=True)
class QueueQuery:
    """Which items of which teams: a kind, its statuses, and optionally a #tag and words that
    must appear in the text or the title (matched literally, case-insensitively)."""

    teams: tuple[str, ...]
    kind: ItemKind
    statuses: tuple[ItemStatus, ...]
    tag: str | None = None
    words: str | None = None
    order: QueueOrder = QueueOrder.OLDEST
    reporter_id: str | None = None
    min_votes: int = 0  # only items with at least this many +1s (App Home's "Most +1'd")


@dataclass(frozen=True)
class Page:
    """One page of items, and the cursor of the next (None: this was the last)."""

    entries: list[QueuedItem] = field(default_factory=list)
    after: str | None = None


@dataclass(frozen=True)
class OpenRisk:
    """An open risk, whether it is high (`bot.risks.is_high`), and the name of the open
    milestone it threatens."""

    item: Item
    high: bool
    milestone: str | None = None


@dataclass(frozen=True)
class Risks:
    """The first few open risks, how many there are in all, and how many of them are high."""

    shown: list[OpenRisk] = field(default_factory=list)
    total: int = 0
    high: int = 0


def _literal(text: str) -> str:
    """`text` lowercased for a LIKE pattern, with LIKE's own wildcards taken literally."""
    return text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def cursor_of(item: Item, order: QueueOrder) -> str:
    """The cursor of the page that starts right after `item` (a caller that shows only part
    of a page, App Home, pages on from the last row it showed)."""
    if order is QueueOrder.MOST_VOTED:
        return f"{item.vote_count}|{item.id}"
    return f"{item.created_at.isoformat()}|{item.id}"


def _after(cursor: str, order: QueueOrder) -> tuple[Any, ...]:
    """The rows after the one the cursor names, in the query's order: consecutive ranges of
    the index the order reads, to be read in turn; none for a cursor that is not one `page`
    made (a forged button value): the caller reads from the top."""
    if not valid_cursor(cursor, order):
        return ()
    position, _, raw_id = cursor.partition("|")
    last_id = int(raw_id)
    if order is QueueOrder.MOST_VOTED:
        # The rest of the tie, then fewer votes: SQLite seeks a row value only by its first
        # column, so one comparison would walk the whole tie (often most of a queue).
        votes = int(position)
        return (
            and_(col(Item.vote_count) == votes, col(Item.id) < last_id),
            col(Item.vote_count) < votes,
        )
    # A row-value comparison: one range of the (…, created_at, id) index, not a scan.
    row = tuple_(col(Item.created_at), col(Item.id))
    last = tuple_(literal(datetime.fromisoformat(position), _CREATED_AT), literal(last_id))
    return (row < last if order is QueueOrder.NEWEST else row > last,)


def valid_cursor(cursor: str, order: QueueOrder) -> bool:
    """Whether `cursor` (say, from a button a person could have forged) is one `page` made
    for `order`: a bounded row id after an aware time, or after a vote count."""
    position, bar, raw_id = cursor.partition("|")
    if not bar or len(cursor) > 64 or not (raw_id.isascii() and raw_id.isdigit()):
        return False
    if len(raw_id) > 18:
        return False
    if order is QueueOrder.MOST_VOTED:
        return position.isascii() and position.isdigit() and len(position) <= 9
    try:
        at = datetime.fromisoformat(position)
    except ValueError:
        return False
    return at.tzinfo is not None


def page_from(
    entries: Sequence[QueuedItem], query: QueueQuery, limit: int, after: str | None = None
) -> Page:
    """What `page` would read, taken from items already read: `entries` must be every item
    the query's teams, kind, statuses, tag and words match (in any order), as a read that
    found fewer than its limit gives them. Applies the order, the cursor and `min_votes`."""
    key = _sort_key(query)
    start = _cursor_position(after, query.order) if after else None
    rows = sorted(
        (
            entry
            for entry in entries
            if entry.item.vote_count >= query.min_votes and (start is None or key(entry) > start)
        ),
        key=key,
    )
    shown = rows[:limit]
    more = len(rows) > limit and shown
    return Page(shown, cursor_of(shown[-1].item, query.order) if more else None)


def _sort_key(query: QueueQuery) -> Callable[[QueuedItem], tuple[float, float]]:
    """The query's order in Python: merging pages read team by team, or paging in memory."""
    return lambda entry: _position(
        query.order, entry.item.vote_count, entry.item.created_at, entry.item.id or 0
    )


def _position(
    order: QueueOrder, votes: int, at: datetime | None, item_id: int
) -> tuple[float, float]:
    if order is QueueOrder.MOST_VOTED or at is None:
        return (-votes, -item_id)
    sign = -1 if order is QueueOrder.NEWEST else 1
    return (_timestamp(at) * sign, item_id * sign)


def _cursor_position(cursor: str, order: QueueOrder) -> tuple[float, float] | None:
    """Where a cursor stands in `_sort_key`'s terms; None when it does not parse (from the
    top, as `_after`)."""
    if not valid_cursor(cursor, order):
        return None
    position, _, raw_id = cursor.partition("|")
    try:
        item_id = int(raw_id)
        if order is QueueOrder.MOST_VOTED:
            return _position(order, int(position), None, item_id)
        return _position(order, 0, datetime.fromisoformat(position), item_id)
    except ValueError:
        return None


def _timestamp(at: datetime) -> float:
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()


_ORDER_BY = {
    QueueOrder.OLDEST: (col(Item.created_at), col(Item.id)),
    QueueOrder.NEWEST: (col(Item.created_at).desc(), col(Item.id).desc()),
    QueueOrder.MOST_VOTED: (col(Item.vote_count).desc(), col(Item.id).desc()),
}


class QueueStore:
    def __init__(self, db: Database, workspace_id: str) -> None:
        self.db = db
        self.workspace_id = workspace_id

    def page(self, query: QueueQuery, limit: int, after: str | None = None) -> Page:
        """Up to `limit` items in the query's order, from after the cursor. A queue is read
        one team and one status at a time, and merged: an index orders one (team, status)'s
        rows, not several together, so one read of them all would sort every row they match,
        while each of these stops after `limit` + 1 rows."""
        if not query.teams and query.reporter_id is None:
            return Page()
        parts = [query]
        if query.teams:
            parts = [
                replace(query, teams=(team,), statuses=(status,))
                for team in query.teams
                for status in query.statuses
            ]
        rows = [item for part in parts for item in self._read(part, limit, after)]
        rows.sort(
            key=lambda item: _position(query.order, item.vote_count, item.created_at, item.id or 0)
        )
        shown = rows[:limit]
        more = len(rows) > limit and shown
        return Page(
            [QueuedItem(item, item.vote_count) for item in shown],
            cursor_of(shown[-1], query.order) if more else None,
        )

    def _read(self, query: QueueQuery, limit: int, after: str | None) -> list[Item]:
        """Up to `limit` + 1 rows after the cursor: from each range in turn, until enough."""
        statement = select(Item).where(*self._where(query)).order_by(*_ORDER_BY[query.order])
        ranges = (_after(after, query.order) if after else ()) or (true(),)
        rows: list[Item] = []
        with self.db.session() as session:
            for rest in ranges:
                rows += session.exec(statement.where(rest).limit(limit + 1 - len(rows)))
                if len(rows) > limit:
                    break
        return rows

    def raised(self, reporter_id: str, limit: int, after: str | None = None) -> Page:
        """What one person raised, of either kind and in any status, newest first."""
        statement = select(Item).where(
            col(Item.workspace_id) == self.workspace_id, col(Item.reporter_id) == reporter_id
        )
        statement = statement.where(*(_after(after, QueueOrder.NEWEST) if after else ()))
        statement = statement.order_by(*_ORDER_BY[QueueOrder.NEWEST]).limit(limit + 1)
        with self.db.session() as session:
            rows = list(session.exec(statement))
        shown = rows[:limit]
        more = len(rows) > limit and shown
        return Page(
            [QueuedItem(item, item.vote_count) for item in shown],
            cursor_of(shown[-1], QueueOrder.NEWEST) if more else None,
        )

    def count(self, query: QueueQuery, cap: int | None = None) -> int:
        """How many items the query matches, counted no further than `cap` + 1 when given (a
        list says "1,000+"): such a count reads at most that many rows, however long the
        queue."""
        if not query.teams and query.reporter_id is None:
            return 0
        rows = select(col(Item.id)).where(*self._where(query))
        if cap is not None:
            rows = rows.limit(cap + 1)
        statement = select(func.count()).select_from(rows.subquery())
        with self.db.session() as session:
            return int(session.exec(statement).one())

    def counts_upto(
        self, teams: Sequence[str], kind: ItemKind, statuses: Sequence[ItemStatus], cap: int
    ) -> dict[ItemStatus, int]:
        """How many of the teams' items of one kind are in each status, counted no further
        than `cap` + 1 (App Home says "1,000+"): each count reads at most that many index
        entries, however long the queue."""
        if not teams:
            return {}
        found: dict[ItemStatus, int] = {}
        with self.db.session() as session:
            for status in statuses:
                rows = (
                    select(col(Item.id))
                    .where(
                        col(Item.workspace_id) == self.workspace_id,
                        col(Item.team_channel_id).in_(list(teams)),
                        col(Item.kind) == kind,
                        col(Item.status) == status,
                    )
                    .limit(cap + 1)
                    .subquery()
                )
                found[status] = int(session.exec(select(func.count()).select_from(rows)).one())
        return found

    def open_risks(self, teams: Sequence[str], kind: ItemKind, limit: int) -> Risks:
        """The teams' open risks of one kind (the digest, App Home): up to `limit`, high
        first and then newest, and how many there are (and are high). Open risks are few
        (they are closed or accepted, never left to pile up like feedback): one short read,
        one count."""
        if not teams:
            return Risks()
        where = (
            col(Item.workspace_id) == self.workspace_id,
            col(Item.team_channel_id).in_(list(teams)),
            col(Item.kind) == kind,
            col(Item.status).in_(OPEN_STATUSES[kind]),
        )
        high = case((HIGH_RISK, 1), else_=0)
        shown = (
            select(Item, high, col(Milestone.name))
            .outerjoin(
                Milestone,
                (col(Milestone.id) == col(Item.milestone_id))
                & (col(Milestone.workspace_id) == self.workspace_id)
                & (col(Milestone.status) == WorkStatus.OPEN),
            )
            .where(*where)
            .order_by(high.desc(), col(Item.created_at).desc(), col(Item.id).desc())
            .limit(limit)
        )
        counted = select(func.count(), func.coalesce(func.sum(high), 0)).where(*where)
        with self.db.session() as session:
            rows = [OpenRisk(item, bool(h), name) for item, h, name in session.execute(shown)]
            total, high_total = session.execute(counted).one()
        return Risks(rows, int(total), int(high_total))

    def lookalike_words(
        self, team_channel_id: str, kind: ItemKind, limit: int
    ) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
        """The newest and the most +1'd items of a team's queue still waiting in it (open: not
        snoozed nor waiting on a question), each as (id, title or text): what new feedback is
        compared with. The newest alone would miss the old request everyone +1s. One round
        trip of two indexed reads of `limit` rows, in queues of any length (`bot.lookalikes`
        keeps them); an item may be in both."""
        where = (
            col(Item.workspace_id) == self.workspace_id,
            col(Item.team_channel_id) == team_channel_id,
            col(Item.kind) == kind,
            col(Item.status) == ItemStatus.OPEN,
        )
        columns = (
            col(Item.id),
            func.coalesce(col(Item.title), col(Item.text)).label("words"),
            col(Item.created_at),
            col(Item.vote_count),
        )
        newest = (
            select_columns(literal(False).label("popular"), *columns)
            .where(*where)
            .order_by(*_ORDER_BY[QueueOrder.NEWEST])
            .limit(limit)
            .subquery()
        )
        popular = (
            select_columns(literal(True).label("popular"), *columns)
            .where(*where, col(Item.vote_count) > 0)
            .order_by(*_ORDER_BY[QueueOrder.MOST_VOTED])
            .limit(limit)
            .subquery()
        )
        with self.db.reading() as connection:
            rows = connection.execute(
                union_all(select_columns(newest), select_columns(popular))
            ).all()
        recent = sorted(
            (row for row in rows if not row.popular),
            key=lambda row: _position(QueueOrder.NEWEST, 0, row.created_at, row.id),
        )
        voted = sorted(
            (row for row in rows if row.popular),
            key=lambda row: _position(QueueOrder.MOST_VOTED, row.vote_count, None, row.id),
        )
        return (
            [(row.id, str(row.words)) for row in recent],
            [(row.id, str(row.words)) for row in voted],
        )

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
        if query.min_votes > 0:
            where.append(col(Item.vote_count) >= query.min_votes)
        if query.tag:
            where.append(col(Item.tags).like(f"% {_literal(query.tag)} %", escape="\\"))
        if query.words:
            pattern = f"%{_literal(query.words)}%"
            where.append(
                or_(
                    func.lower(col(Item.text)).like(pattern, escape="\\"),
                    func.lower(func.coalesce(col(Item.title), "")).like(pattern, escape="\\"),
                )
            )
        return where
