"""Feedback and blockers: filing, +1s, status changes and the queues."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, bindparam, case, cast, exists, func, literal, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from storage.db import Database
from storage.models import (
    OPEN_STATUSES,
    Item,
    ItemKind,
    ItemStatus,
    ItemVote,
    OutboxSend,
    Role,
    RoleAssignment,
    SendKind,
    SendStatus,
    TeamSettings,
    Webhook,
)
from storage.teams import Routing, routing_query

_ITEM_COLUMNS = [column for column in Item.__table__.columns if column.name != "id"]  # type: ignore[attr-defined]


# Whether the team has a webhook to tell: read with the routing, so that a team without one
# (most) costs nothing more when an item is filed.
_HAS_WEBHOOKS = exists().where(
    col(Webhook.workspace_id) == bindparam("workspace_id"),
    col(Webhook.team_channel_id) == bindparam("channel_id"),
    col(Webhook.active).is_(True),
)


def _filing_statement() -> Any:
    """PostgreSQL: the whole ack path of filing in one statement, one round trip: insert the
    item (a conflict means the same request, or the same source message, filed one already)
    and read the routing. Rows as `routing_query`'s, led by the new item's id (None when
    nothing was inserted) and whether the team has webhooks."""
    values = select(*(bindparam(c.name, type_=c.type) for c in _ITEM_COLUMNS))
    filed = (
        postgresql.insert(Item)
        .from_select([c.name for c in _ITEM_COLUMNS], values)
        .on_conflict_do_nothing()
        .returning(col(Item.id))
        .cte("filed")
    )
    return routing_query(select(filed.c.id).scalar_subquery(), _HAS_WEBHOOKS).add_cte(filed)


# The ack path: prebuilt once (compiling a statement costs more than running it).
_FILE = _filing_statement()
_INSERT_ITEM_SQLITE = sqlite.insert(Item).on_conflict_do_nothing().returning(col(Item.id))
_ROUTING_SQLITE = routing_query(_HAS_WEBHOOKS)


@dataclass(frozen=True)
class Filing:
    """An item filed, or the one filed before by the same request (`replayed`; `created` as
    the first time, unless the request now says something else) or from the same source
    message, and where its cards go."""

    item: Item
    created: bool
    routing: Routing
    webhooks: bool  # the team has an active webhook
    replayed: bool = False


class AlreadyQueued(Exception):
    """The item's source message is already in the queue it was to move to."""


class NotMergeable(Exception):
    """The item to merge into is not open feedback of its own (closed, or merged itself)."""


@dataclass(frozen=True)
class QueuedItem:
    item: Item
    votes: int


IS_OPEN = or_(
    *(
        (col(Item.kind) == kind) & col(Item.status).in_(statuses)
        for kind, statuses in OPEN_STATUSES.items()
    )
)
VOTES = col(Item.vote_count)
_CARDS = select(OutboxSend.item_id).where(
    OutboxSend.workspace_id == bindparam("workspace_id"), OutboxSend.kind == SendKind.CARD
)
_POSTED_CARDS = _CARDS.where(OutboxSend.status == SendStatus.SENT)


def _had_somewhere_to_go(kind: ItemKind) -> Any:
    """An item of `kind` whose role had a holder when it was filed, or has a queue channel."""
    role = kind.owner_role
    queue = (
        TeamSettings.product_queue_channel
        if role is Role.PRODUCT
        else TeamSettings.project_queue_channel
    )
    held = exists().where(
        col(RoleAssignment.workspace_id) == col(Item.workspace_id),
        col(RoleAssignment.channel_id) == col(Item.team_channel_id),
        col(RoleAssignment.role) == role,
        col(RoleAssignment.assigned_at) <= col(Item.created_at),
    )
    queued = exists().where(
        col(TeamSettings.workspace_id) == col(Item.workspace_id),
        col(TeamSettings.channel_id) == col(Item.team_channel_id),
        col(queue).is_not(None),
    )
    return (col(Item.kind) == kind) & or_(held, queued)


def with_votes(*where: Any) -> Any:
    """Items matching `where`, each with its +1 count; run with the `workspace_id` param
    (`ItemStore.queued` gives it)."""
    return select(Item, VOTES).where(Item.workspace_id == bindparam("workspace_id"), *where)


class ItemStore:
    def __init__(self, db: Database, workspace_id: str) -> None:
        self.db = db
        self.workspace_id = workspace_id
        self._mine = col(Item.workspace_id) == workspace_id

    def file(self, item: Item) -> tuple[Item, bool]:
        """Insert the item, or return the one already filed for the same source message."""
        filing = self.file_request(item)
        return filing.item, filing.created

    def file_request(self, item: Item) -> Filing:
        """`file`, and read where the item's cards go, in one statement on PostgreSQL (one
        round trip). An item whose `request_id` (a slash command's trigger) filed one before
        gets that one back, `replayed`: a replay, or a retry after the connection died with
        the first try's outcome unknown."""
        item.workspace_id = self.workspace_id
        params = {
            **item.model_dump(exclude={"id"}),
            "channel_id": item.team_channel_id,
            "role": item.kind.owner_role,
        }
        if self.db.dialect == "postgresql":
            with self.db.autocommit() as connection:
                rows = connection.execute(_FILE, params).all()
            new_id, webhooks = rows[0][0], rows[0][1]
        else:
            with self.db.fast_write() as connection:
                new_id = connection.execute(_INSERT_ITEM_SQLITE, params).scalar()
                rows = connection.execute(_ROUTING_SQLITE, params).all()
            webhooks = rows[0][0]
        routing = Routing.of(rows, item.kind.owner_role)
        if new_id is not None:
            item.id = new_id
            return Filing(item, True, routing, bool(webhooks))
        if item.request_id is not None:
            filed = self._by_request(item.request_id)
            if filed is not None:
                # The same request only if it says the same (a forged one would not): else it
                # is told where that item is, and nothing is posted for it.
                same = (filed.team_channel_id, filed.kind, filed.reporter_id) == (
                    item.team_channel_id,
                    item.kind,
                    item.reporter_id,
                )
                return Filing(filed, same, routing, bool(webhooks), replayed=True)
        assert item.source_channel_id is not None and item.source_ts is not None
        existing = self.by_source(item.kind, item.source_channel_id, item.source_ts)
        assert existing is not None, "a conflict implies the row exists"
        return Filing(existing, False, routing, bool(webhooks))

    def _by_request(self, request_id: str) -> Item | None:
        query = select(Item).where(self._mine, Item.request_id == request_id)
        with self.db.session() as session:
            return session.exec(query).first()

    def by_source(self, kind: ItemKind, channel_id: str, ts: str) -> Item | None:
        query = select(Item).where(
            self._mine,
            Item.kind == kind,
            Item.source_channel_id == channel_id,
            Item.source_ts == ts,
        )
        with self.db.session() as session:
            return session.exec(query).first()

    def by_source_in(self, kinds: Sequence[ItemKind], channel_id: str, ts: str) -> list[Item]:
        """The items filed from one message in any of `kinds`: a move may have taken it to the
        other queue. One query on the source key (its kind as a list of values)."""
        query = select(Item).where(
            self._mine,
            col(Item.kind).in_(list(kinds)),
            Item.source_channel_id == channel_id,
            Item.source_ts == ts,
        )
        with self.db.session() as session:
            return list(session.exec(query.order_by(col(Item.id))))

    def merged_into(self, item: Item) -> Item:
        """The item `item` counts in: itself, or the original it was merged into, followed to
        the end (a merge refuses an original merged itself, so the chain has no loop)."""
        while item.duplicate_of is not None:
            original = self.get(item.duplicate_of)
            assert original is not None, "an original is this workspace's, and kept (a key)"
            item = original
        return item

    def asked_in_thread(self, channel_id: str, thread_ts: str, reporter_id: str) -> Item | None:
        """The feedback `reporter_id` raised whose question was asked in this thread (the
        latest asked, if several were), if any. Run for every thread reply in a team channel:
        an item heard of in a channel (the only ones with a thread) belongs to that channel's
        team, so the queue index (team, kind, status) leads to the team's few items waiting
        for an answer."""
        query = (
            select(Item)
            .where(
                self._mine,
                Item.team_channel_id == channel_id,
                Item.kind == ItemKind.FEEDBACK,
                Item.status == ItemStatus.NEEDS_INFO,
                Item.source_channel_id == channel_id,
                Item.notice_thread_ts == thread_ts,
                Item.reporter_id == reporter_id,
            )
            .order_by(col(Item.updated_at).desc(), col(Item.id).desc())
            .limit(1)
        )
        with self.db.session() as session:
            return session.exec(query).first()

    def get(self, item_id: int) -> Item | None:
        """The item, if it is this workspace's: an id from a button is never trusted alone."""
        with self.db.session() as session:
            return session.exec(select(Item).where(self._mine, Item.id == item_id)).first()

    def set_permalink(self, item_id: int, permalink: str) -> None:
        with self.db.writing() as session:
            session.execute(
                update(Item).where(self._mine, col(Item.id) == item_id).values(permalink=permalink)
            )
            session.commit()

    def add_vote(self, item_id: int, user_id: str, now: datetime) -> bool:
        """Count a +1 on one of this workspace's items; False when this person had already
        counted."""
        vote = ItemVote(
            workspace_id=self.workspace_id, item_id=item_id, user_id=user_id, created_at=now
        )
        with self.db.writing() as session:
            session.add(vote)
            try:
                session.flush()
            except IntegrityError:
                return False
            session.execute(
                update(Item)
                .where(self._mine, col(Item.id) == item_id)
                .values(vote_count=col(Item.vote_count) + 1)
            )
            session.commit()
        return True

    def votes(self, item_id: int) -> int:
        query = select(Item.vote_count).where(self._mine, Item.id == item_id)
        with self.db.session() as session:
            return int(session.exec(query).first() or 0)

    def transition(
        self,
        item_id: int,
        allowed_from: Iterable[ItemStatus],
        to: ItemStatus | None,
        by: str,
        now: datetime,
        *,
        of_kind: ItemKind | None = None,
        **changes: Any,
    ) -> bool:
        """Move the item to `to` with `changes` (a reason, a snooze…) only if it is still of
        `of_kind` (when given: a move to the other queue may have won the race) and in
        `allowed_from` (two owners clicking at once: one wins). `to` None keeps the status,
        who handled it and the revision (a reassignment); every other change counts one, so a
        second question or a second move is news again. A move to a queue that already holds
        the same source message raises `AlreadyQueued`."""
        where = [self._mine, col(Item.id) == item_id, col(Item.status).in_(list(allowed_from))]
        if of_kind is not None:
            where.append(col(Item.kind) == of_kind)
        values: dict[str, Any] = {"updated_at": now}
        if to is not None:
            values |= {"status": to, "handled_by": by, "revision": col(Item.revision) + 1}
        with self.db.writing() as session:
            try:
                result = session.execute(update(Item).where(*where).values(**values, **changes))
                session.commit()
            except IntegrityError as conflict:
                raise AlreadyQueued(item_id) from conflict
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def merge(
        self,
        item_id: int,
        original_id: int,
        allowed_from: Iterable[ItemStatus],
        by: str,
        now: datetime,
        action: str,
    ) -> bool:
        """Mark feedback a duplicate of `original_id` (by the button `action`) and carry its
        reporter and +1s over to the original as +1s (each person once; never the original's
        own reporter), in one transaction. Both rows are locked first, in id order (two
        merges of a pair into each other cannot deadlock, nor both win): the original must
        still be open feedback, merged into nothing (else `NotMergeable`); False when the item
        itself was triaged since."""
        kind = ItemKind.FEEDBACK
        with self.db.writing() as session:
            locked = session.exec(
                select(Item)
                .where(self._mine, col(Item.id).in_([item_id, original_id]))
                .order_by(col(Item.id))
                .with_for_update()
            ).all()
            rows = {row.id: row for row in locked}
            original, duplicate = rows.get(original_id), rows.get(item_id)
            if (
                original is None
                or item_id == original_id
                or original.kind is not kind
                or original.status not in OPEN_STATUSES[kind]
                or original.duplicate_of is not None
            ):
                raise NotMergeable(original_id)
            if duplicate is None or duplicate.kind is not kind:
                return False
            if duplicate.status not in allowed_from:
                return False
            carried = set(
                session.exec(
                    select(ItemVote.user_id).where(
                        ItemVote.workspace_id == self.workspace_id, ItemVote.item_id == item_id
                    )
                )
            )
            carried = (carried | {duplicate.reporter_id}) - {original.reporter_id}
            duplicate.status, duplicate.duplicate_of = ItemStatus.DUPLICATE, original_id
            duplicate.handled_by, duplicate.updated_at = by, now
            duplicate.revision += 1
            duplicate.last_action = action
            session.add(duplicate)
            if carried:
                session.execute(
                    self.db.insert_or_skip(ItemVote).on_conflict_do_nothing(),
                    [
                        {
                            "workspace_id": self.workspace_id,
                            "item_id": original_id,
                            "user_id": user_id,
                            "created_at": now,
                        }
                        for user_id in sorted(carried)
                    ],
                )
            counted = (
                select(func.count())
                .select_from(ItemVote)
                .where(ItemVote.workspace_id == self.workspace_id, ItemVote.item_id == original_id)
                .scalar_subquery()
            )
            session.execute(
                update(Item)
                .where(self._mine, col(Item.id) == original_id)
                .values(vote_count=counted, updated_at=now)
            )
            session.commit()
        return True

    def voters(self, item_id: int) -> list[str]:
        """Who +1'd the item (merged reporters included), in the order they did."""
        query = (
            select(ItemVote.user_id)
            .where(ItemVote.workspace_id == self.workspace_id, ItemVote.item_id == item_id)
            .order_by(col(ItemVote.id))
        )
        with self.db.session() as session:
            return list(session.exec(query))

    def due_to_wake(self, now: datetime) -> list[Item]:
        """Snoozed items whose day has come."""
        query = select(Item).where(
            self._mine,
            Item.status == ItemStatus.SNOOZED,
            col(Item.snoozed_until) <= now,
        )
        with self.db.session() as session:
            return list(session.exec(query.order_by(col(Item.id))))

    def open_queue(self, team_channel_id: str, kind: ItemKind) -> list[QueuedItem]:
        """The team's open queue, oldest first, with +1 counts."""
        return self.queued(self._queue(team_channel_id, kind))

    def waiting_for_owner(
        self, team_channel_id: str, kind: ItemKind, limit: int
    ) -> list[QueuedItem]:
        """The oldest open items whose card never reached anyone: they wait for a role
        holder."""
        query = self._queue(team_channel_id, kind).where(col(Item.id).not_in(_POSTED_CARDS))
        return self.queued(query.limit(limit))

    def count_waiting(self, team_channel_id: str, kind: ItemKind) -> int:
        query = (
            select(func.count())
            .select_from(Item)
            .where(
                self._mine,
                Item.team_channel_id == team_channel_id,
                Item.kind == kind,
                col(Item.status).in_(OPEN_STATUSES[kind]),
                col(Item.id).not_in(_POSTED_CARDS),
            )
        )
        with self.db.session() as session:
            return int(session.execute(query, self._params).scalar_one())

    def never_carded(self, since: datetime, until: datetime, limit: int) -> list[Item]:
        """Open items filed in the window that no card was ever claimed for though one was
        due: the process that acked them stopped before posting. An item filed while nobody
        held its role (nor had a queue channel for it) was never due a card: whoever took the
        role since was told of the backlog in one message."""
        query = select(Item).where(
            self._mine,
            IS_OPEN,
            col(Item.created_at) >= since,
            col(Item.created_at) < until,
            col(Item.id).not_in(_CARDS),
            or_(*(_had_somewhere_to_go(kind) for kind in ItemKind)),
        )
        with self.db.session() as session:
            found = session.exec(query.order_by(col(Item.id)).limit(limit), params=self._params)
            return list(found)

    def triaged_unnoticed(
        self, since: datetime, until: datetime, heard: Sequence[str], moves: Sequence[str]
    ) -> list[Item]:
        """Items someone other than their reporter changed in the window, by a button whose
        reporter hears of it (`heard`; `moves` re-route), whose notice was never claimed: the
        process died in between. The key is the one `bot.notices` gives:
        `notice:triaged:<id>:<status>` or `notice:moved:<id>:<kind>`, then `:<revision>` from
        the second change on."""
        revision = case(
            (col(Item.revision) > 1, literal(":") + cast(col(Item.revision), String)),
            else_=literal(""),
        )
        id_ = cast(col(Item.id), String)
        moved = col(Item.last_action).in_(list(moves))
        notice_key = (
            case(
                (
                    moved,
                    literal("notice:moved:") + id_ + literal(":") + cast(col(Item.kind), String),
                ),
                else_=literal("notice:triaged:")
                + id_
                + literal(":")
                + cast(col(Item.status), String),
            )
            + revision
        )
        # Changed before buttons were recorded: every status but open and snoozed was news.
        unrecorded = col(Item.last_action).is_(None) & col(Item.status).not_in(
            [ItemStatus.OPEN, ItemStatus.SNOOZED]
        )
        query = select(Item).where(
            self._mine,
            or_(col(Item.last_action).in_(list(heard)), unrecorded),
            col(Item.handled_by).is_not(None),
            col(Item.handled_by) != col(Item.reporter_id),
            col(Item.updated_at) >= since,
            col(Item.updated_at) < until,
            ~exists().where(
                col(OutboxSend.workspace_id) == self.workspace_id,
                col(OutboxSend.key) == notice_key,
            ),
        )
        with self.db.session() as session:
            return list(session.exec(query.order_by(col(Item.id))))

    def moved_since(self, since: datetime, until: datetime, moves: Sequence[str]) -> list[Item]:
        """Open items re-routed in the window: their new owners' cards may be owed (the
        process that moved them stopped before posting)."""
        query = select(Item).where(
            self._mine,
            IS_OPEN,
            col(Item.last_action).in_(list(moves)),
            col(Item.updated_at) >= since,
            col(Item.updated_at) < until,
        )
        with self.db.session() as session:
            return list(session.exec(query.order_by(col(Item.id))))

    def unacknowledged_blockers(
        self, raised_before: datetime, escalated_before: datetime
    ) -> list[Item]:
        """Open (never acknowledged) blockers raised before `raised_before`, across teams,
        except those escalated before `escalated_before`: everyone it was for has had it, so a
        run does not re-plan every old blocker's escalation again."""
        escalated = (
            select(OutboxSend.key)
            .where(
                col(OutboxSend.workspace_id) == self.workspace_id,
                col(OutboxSend.item_id) == Item.id,
                col(OutboxSend.kind) == SendKind.REMINDER,
                col(OutboxSend.status) == SendStatus.SENT,
                col(OutboxSend.sent_at) <= escalated_before,
            )
            .exists()
        )
        query = select(Item).where(
            self._mine,
            Item.kind == ItemKind.BLOCKER,
            Item.status == ItemStatus.OPEN,
            col(Item.created_at) <= raised_before,
            ~escalated,
        )
        with self.db.session() as session:
            return list(session.exec(query.order_by(col(Item.id))))

    def queued(self, query: Any) -> list[QueuedItem]:
        """Run a `with_votes` query."""
        with self.db.session() as session:
            found = session.execute(query, self._params)
            return [QueuedItem(item, int(count)) for item, count in found]

    @property
    def _params(self) -> dict[str, str]:
        """The workspace of the prebuilt queries' `workspace_id` parameter."""
        return {"workspace_id": self.workspace_id}

    @staticmethod
    def _queue(team_channel_id: str, kind: ItemKind) -> Any:
        return with_votes(
            Item.team_channel_id == team_channel_id,
            Item.kind == kind,
            col(Item.status).in_(OPEN_STATUSES[kind]),
        ).order_by(col(Item.created_at), col(Item.id))
