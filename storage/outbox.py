"""The outbox table: claims that make every post after an ack or on a schedule exactly-once."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy
from sqlalchemy import (
    JSON,
    DateTime,
    Integer,
    String,
    and_,
    bindparam,
    case,
    column,
    func,
    literal,
    or_,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlmodel import col, select

from storage.db import Database
from storage.items import IS_OPEN
from storage.models import Item, OutboxSend, SendKind, SendStatus


@dataclass(frozen=True)
class Send:
    """One thing to post under a key; `message` is stored for notices, whose text a later run
    cannot re-create."""

    key: str
    kind: SendKind
    item_id: int | None = None
    message: dict[str, Any] | None = None


def _row(
    workspace_id: str, send: Send, destination: str, now: datetime, **state: Any
) -> dict[str, Any]:
    """A new outbox row for `send`; `state` sets how it starts (claimed now, or queued)."""
    return {
        "workspace_id": workspace_id,
        "key": send.key,
        "kind": send.kind,
        "item_id": send.item_id,
        "message": send.message,
        "destination": destination,
        "created_at": now,
        "claimed_at": now,
        "retry_at": None,
        "post_tag": "",
        **state,
    }


def retry_backoff(attempts: int) -> timedelta:
    """How long a failed post waits: one minute, doubling to an hour."""
    return timedelta(minutes=min(2 ** (attempts - 1), 60))


def _retryable(now: datetime, stale_before: datetime) -> Any:
    """A row that may be claimed: failed or queued and due, or abandoned by a runner that died
    before recording an outcome."""
    return or_(
        col(OutboxSend.status).in_([SendStatus.FAILED, SendStatus.QUEUED])
        & (col(OutboxSend.retry_at) <= now),
        (col(OutboxSend.status) == SendStatus.CLAIMED)
        & (col(OutboxSend.claimed_at) < stale_before),
    )


TAGS_KEPT = 10  # attempts looked for at most: the newest, likeliest within Slack's last page
_TAGS_WIDTH = 17 * TAGS_KEPT - 1  # 16-character tags, one space apart


def _with_post_tag() -> Any:
    """`earlier_tags` plus the row's `post_tag` (that attempt may have reached Slack), keeping
    the newest TAGS_KEPT."""
    joined = func.trim(col(OutboxSend.earlier_tags) + " " + col(OutboxSend.post_tag))
    newest = func.substr(joined, func.length(joined) - (_TAGS_WIDTH - 1))
    return case((func.length(joined) > _TAGS_WIDTH, newest), else_=joined)


# Run for every post: prebuilt once, since building a statement per call costs more than the
# database work itself.
_RECORD_SENT = (
    update(OutboxSend)
    .where(
        col(OutboxSend.workspace_id) == bindparam("workspace"),
        col(OutboxSend.key) == bindparam("send_key"),
    )
    .values(
        status=SendStatus.SENT,
        channel_id=bindparam("landed_in"),
        message_ts=bindparam("ts"),
        sent_at=bindparam("now"),
    )
)


def _claim_new_statement() -> Any:
    """PostgreSQL: insert the claims of new keys from one JSON array of (key, kind, item_id,
    message). Its text is the same however many sends a message carries, so PostgreSQL and
    psycopg prepare it once; a multi-row VALUES list is a new statement for every row count
    (converted and planned each time: most of a scheduled post's cost)."""
    sends = (
        func.json_to_recordset(bindparam("sends", type_=JSON))
        .table_valued(
            column("key", String),
            column("kind", String),
            column("item_id", Integer),
            column("message", JSON),
        )
        .render_derived(name="send", with_types=True)
    )
    now = bindparam("now", type_=DateTime(timezone=True))
    values = sqlalchemy.select(
        bindparam("workspace_id", type_=String),
        sends.c.key,
        sends.c.kind,
        sends.c.item_id,
        sends.c.message,
        bindparam("destination", type_=String),
        literal(SendStatus.CLAIMED.value),
        literal(1),
        now,
        now,
        bindparam("tag", type_=String),
        literal(""),
    ).select_from(sends)
    names = ["workspace_id", "key", "kind", "item_id", "message", "destination", "status"]
    names += ["attempts", "created_at", "claimed_at", "post_tag", "earlier_tags"]
    return (
        postgresql.insert(OutboxSend)
        .from_select(names, values, include_defaults=False)
        .on_conflict_do_nothing(index_elements=["workspace_id", "key"])
        .returning(col(OutboxSend.key))
    )


_CLAIM_NEW_POSTGRES = _claim_new_statement()


class OutboxStore:
    def __init__(self, db: Database, workspace_id: str) -> None:
        self.db = db
        self.workspace_id = workspace_id
        self._mine = col(OutboxSend.workspace_id) == workspace_id
        self._insert_new = (
            db.insert_or_skip(OutboxSend)
            .on_conflict_do_nothing(index_elements=["workspace_id", "key"])
            .returning(col(OutboxSend.key))
        )

    def claim(
        self,
        sends: Sequence[Send],
        destination: str,
        now: datetime,
        stale_before: datetime,
        tag: str,
    ) -> dict[str, list[str]]:
        """Claim the right to post these sends under the metadata `tag` of this attempt; returns
        each key this caller won with the tags of earlier attempts that may have reached Slack
        (none for a new key), to look for before posting again.

        New keys are inserted (a conflicting insert wins nothing); of the keys that exist, a
        failed or queued send whose time has come, or a claim whose runner died before
        `stale_before`, is taken over by a conditional update (skipped when every key was new,
        the usual case). Either way two runners never both win a key.
        """
        if not sends:
            return {}
        ordered = sorted(sends, key=lambda s: s.key)
        # Autocommit: each statement is atomic, and what one wins is a claim of its own.
        with self.db.autocommit() as connection:
            won: dict[str, list[str]] = {
                key: []
                for key in connection.execute(
                    *self._claim_new(ordered, destination, now, tag)
                ).scalars()
            }
            existing = sorted({send.key for send in sends} - won.keys())
            if existing:
                retake = (
                    update(OutboxSend)
                    .where(
                        self._mine,
                        col(OutboxSend.key).in_(existing),
                        _retryable(now, stale_before),
                    )
                    .values(
                        status=SendStatus.CLAIMED,
                        claimed_at=now,
                        retry_at=None,
                        destination=destination,
                        attempts=OutboxSend.attempts + 1,
                        # SET reads the row as it was: a runner that died may have posted
                        earlier_tags=case(
                            (col(OutboxSend.status) == SendStatus.CLAIMED, _with_post_tag()),
                            else_=col(OutboxSend.earlier_tags),
                        ),
                        post_tag=tag,
                    )
                    .returning(col(OutboxSend.key), col(OutboxSend.earlier_tags))
                )
                won.update({key: tags.split() for key, tags in connection.execute(retake)})
        return won

    def _claim_new(
        self, sends: Sequence[Send], destination: str, now: datetime, tag: str
    ) -> tuple[Any, Any]:
        """The insert of new keys' claims, and its parameters, for this dialect."""
        if self.db.dialect == "postgresql":
            rows = [
                {"key": s.key, "kind": s.kind.value, "item_id": s.item_id, "message": s.message}
                for s in sends
            ]
            params = {
                "workspace_id": self.workspace_id,
                "sends": rows,
                "destination": destination,
                "now": now,
                "tag": tag,
            }
            return _CLAIM_NEW_POSTGRES, params
        claims = [
            _row(
                self.workspace_id,
                send,
                destination,
                now,
                status=SendStatus.CLAIMED,
                attempts=1,
                post_tag=tag,
            )
            for send in sends
        ]
        return self._insert_new, claims

    def queue(self, sends: Sequence[tuple[Send, str]], now: datetime) -> None:
        """Rows, each with its destination, due at once for the next claim (cards nobody tried to
        post yet); a key that exists is left as it is."""
        rows = [
            _row(
                self.workspace_id,
                send,
                destination,
                now,
                status=SendStatus.QUEUED,
                attempts=0,
                retry_at=now,
            )
            for send, destination in sends
        ]
        if rows:
            with self.db.fast_write() as connection:
                connection.execute(self._insert_new, rows).close()

    def record_sent(
        self, keys: Sequence[str], channel_id: str, message_ts: str, now: datetime
    ) -> None:
        # One statement per key, sent together (psycopg pipelines executemany): each finds
        # its row by the whole primary key, however out of date the table's statistics are
        # (an `IN` over the keys was planned as a scan of the workspace's rows while they still
        # described the outbox as nearly empty, in the first large run of the time loop).
        with self.db.autocommit() as connection:
            connection.execute(
                _RECORD_SENT,
                [
                    {
                        "workspace": self.workspace_id,
                        "send_key": key,
                        "landed_in": channel_id,
                        "ts": message_ts,
                        "now": now,
                    }
                    for key in keys
                ],
            )

    def record_failed(self, keys: Sequence[str], now: datetime, *, maybe_posted: bool) -> None:
        """Hand claims back, to be retried after a backoff that doubles from one minute to an
        hour: a channel the bot was removed from is retried, not hammered. `maybe_posted`: the
        attempt may have reached Slack (a 5xx, a dropped connection), so its tag joins those a
        retry looks for. A send another runner recorded meanwhile stays sent."""
        claimed = (
            self._mine,
            col(OutboxSend.key).in_(list(keys)),
            col(OutboxSend.status) == SendStatus.CLAIMED,
        )
        tags = _with_post_tag() if maybe_posted else col(OutboxSend.earlier_tags)
        with self.db.fast_write() as connection:
            attempts = connection.execute(select(OutboxSend.attempts).where(*claimed).distinct())
            for tries in list(attempts.scalars()):
                connection.execute(
                    update(OutboxSend)
                    .where(*claimed, col(OutboxSend.attempts) == tries)
                    .values(
                        status=SendStatus.FAILED,
                        retry_at=now + retry_backoff(tries),
                        earlier_tags=tags,
                    )
                )

    def hand_back(self, keys: Sequence[str], retry_at: datetime) -> int:
        """Give up claims this runner will not finish (it is stopping): they are retried from
        `retry_at`, and this attempt's tag is looked for first (it may have posted). A send
        recorded meanwhile stays as it is. Returns how many were handed back."""
        with self.db.fast_write() as connection:
            result = connection.execute(
                update(OutboxSend)
                .where(
                    self._mine,
                    col(OutboxSend.key).in_(list(keys)),
                    col(OutboxSend.status) == SendStatus.CLAIMED,
                )
                .values(status=SendStatus.FAILED, retry_at=retry_at, earlier_tags=_with_post_tag())
            )
            return int(result.rowcount)

    def record_final(self, keys: Sequence[str], status: SendStatus, now: datetime) -> None:
        """Settle claims that are not Slack posts (webhooks): SENT once delivered, DEAD once
        given up; neither is claimed again. A send another runner settled stays as it is."""
        with self.db.fast_write() as connection:
            connection.execute(
                update(OutboxSend)
                .where(
                    self._mine,
                    col(OutboxSend.key).in_(list(keys)),
                    col(OutboxSend.status) == SendStatus.CLAIMED,
                )
                .values(
                    status=status,
                    retry_at=None,
                    sent_at=now if status is SendStatus.SENT else None,
                )
            )

    def settled(self, keys: Sequence[str]) -> set[str]:
        """The keys among these that were already posted: planning skips them cheaply."""
        found: set[str] = set()
        with self.db.reading() as connection:
            for start in range(0, len(keys), 500):
                query = select(OutboxSend.key).where(
                    self._mine,
                    col(OutboxSend.key).in_(list(keys[start : start + 500])),
                    OutboxSend.status == SendStatus.SENT,
                )
                found.update(connection.execute(query).scalars())
        return found

    def get(self, key: str) -> OutboxSend | None:
        with self.db.session() as session:
            return session.get(OutboxSend, (self.workspace_id, key))

    def posted(self, kind: SendKind, channel_id: str, message_ts: str) -> OutboxSend | None:
        """The send of this kind that became the message at (channel, ts), if we posted one."""
        query = select(OutboxSend).where(
            self._mine,
            OutboxSend.kind == kind,
            OutboxSend.channel_id == channel_id,
            OutboxSend.message_ts == message_ts,
            OutboxSend.status == SendStatus.SENT,
        )
        with self.db.session() as session:
            return session.exec(query).first()

    def latest_posted(
        self, kind: SendKind, destination: str, key_like: str, since: datetime
    ) -> OutboxSend | None:
        """The latest send of this kind to `destination` whose key matches the LIKE pattern,
        posted since `since`: the digest reply a triage brings up to date."""
        query = (
            select(OutboxSend)
            .where(
                self._mine,
                OutboxSend.kind == kind,
                OutboxSend.status == SendStatus.SENT,
                OutboxSend.destination == destination,
                col(OutboxSend.key).like(key_like),
                col(OutboxSend.sent_at) >= since,
            )
            .order_by(col(OutboxSend.sent_at).desc())
            .limit(1)
        )
        with self.db.session() as session:
            return session.exec(query).first()

    def posted_cards(self, item_id: int) -> list[OutboxSend]:
        """Every card of the item that reached Slack: the copies to update after triage."""
        query = select(OutboxSend).where(
            self._mine,
            OutboxSend.item_id == item_id,
            OutboxSend.kind == SendKind.CARD,
            OutboxSend.status == SendStatus.SENT,
        )
        with self.db.session() as session:
            return list(session.exec(query.order_by(col(OutboxSend.created_at))))

    def to_retry(
        self,
        kind: SendKind,
        now: datetime,
        stale_before: datetime,
        since: datetime | None = None,
        settle_since: datetime | None = None,
        limit: int | None = None,
    ) -> list[OutboxSend]:
        """Unsent claims of one kind (first claimed after `since`; the oldest `limit`) that
        failed and are due again or were abandoned. Cards while their item is open, or, once it
        is closed, while an earlier attempt may have reached Slack (to be found and brought up
        to date; first claimed after `settle_since`)."""
        query = select(OutboxSend).where(
            self._mine, OutboxSend.kind == kind, _retryable(now, stale_before)
        )
        if since is not None:
            query = query.where(col(OutboxSend.created_at) >= since)
        if kind is SendKind.CARD:
            maybe_posted = and_(
                col(OutboxSend.created_at) >= (settle_since or now),
                or_(
                    col(OutboxSend.earlier_tags) != "",
                    col(OutboxSend.status) == SendStatus.CLAIMED,
                ),
            )
            query = query.join(
                Item,
                (col(Item.id) == OutboxSend.item_id)
                & (col(Item.workspace_id) == OutboxSend.workspace_id),
            ).where(or_(IS_OPEN, maybe_posted))
        with self.db.session() as session:
            return list(session.exec(query.order_by(col(OutboxSend.created_at)).limit(limit)))
