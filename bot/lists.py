"""`/feedback list …` and `/blocker list …`: a team's items a page at a time, with a "More"
button that carries the filter and where the next page starts.

A page is one keyset read and one count that stops at `COUNT_CAP` ("1,000+", as App Home
says), however long the queue. The button's value comes back from Slack as the person's client
sent it, so it is read as untrusted input: anything but a value this module made is a
`UsageError` (a polite reply, never a 500), and it never names the channel: the listener takes
that from the payload Slack signed.
"""

import json
from dataclasses import dataclass

from bot.blocks.common import Message
from bot.blocks.home import COUNT_CAP
from bot.blocks.lists import LIST_PAGE, ListPage, queue_page
from bot.clock import Clock
from bot.parsing.team import DEFAULT_FILTER, LIST_FILTERS, MAX_SEARCH, ItemFilter, ListItems
from bot.parsing.words import TAG_NAME, UsageError
from storage.models import RISK_KINDS, ItemKind
from storage.queues import QueueOrder, QueueQuery, QueueStore, valid_cursor

VALUE_VERSION = 1
MAX_VALUE = 2000  # Slack's limit on a button's value
_KINDS = {kind.value[0]: kind for kind in ItemKind}  # f, b, m(arket risk), o(perational risk)

STALE_LIST = (
    "I can't read that list's place any more. Run `/feedback list`, `/blocker list` or "
    "`/risk list` again to see it from the top."
)


def order_of(wanted: ItemFilter) -> QueueOrder:
    """The open queue as its owners work it, waiting longest first; anything else (what was
    planned, resolved, all of it) newest first."""
    return QueueOrder.OLDEST if wanted.filter == DEFAULT_FILTER else QueueOrder.NEWEST


def queue_query(channel_id: str, wanted: ItemFilter, order: QueueOrder | None = None) -> QueueQuery:
    """The query for one team channel's items that `wanted` names."""
    return QueueQuery(
        teams=(channel_id,),
        kind=wanted.kind,
        statuses=wanted.statuses,
        tag=wanted.tag,
        words=wanted.words,
        order=order or order_of(wanted),
    )


@dataclass(frozen=True)
class Place:
    """Where a list stands: what it shows, how many items came before the next page, and the
    cursor the next page starts after."""

    wanted: ItemFilter
    shown: int
    after: str

    def encode(self) -> str:
        """The "More" button's value: compact JSON, well within Slack's 2,000 characters (the
        search text is at most `MAX_SEARCH` characters, the cursor at most 64)."""
        wanted = self.wanted
        fields = [
            VALUE_VERSION,
            wanted.kind.value[0],
            wanted.filter,
            wanted.tag or "",
            wanted.words or "",
            self.shown,
            self.after,
        ]
        return json.dumps(fields, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def decode(cls, value: object) -> "Place":
        """The place a button value names; `UsageError` for anything this module did not make."""
        if not isinstance(value, str) or len(value) > MAX_VALUE:
            raise UsageError(STALE_LIST)
        try:
            fields = json.loads(value)
        except (ValueError, RecursionError):
            raise UsageError(STALE_LIST) from None
        if not isinstance(fields, list) or len(fields) != 7 or fields[0] != VALUE_VERSION:
            raise UsageError(STALE_LIST)
        _, kind_code, name, tag, words, shown, after = fields
        kind = _KINDS.get(kind_code) if isinstance(kind_code, str) else None
        if (
            kind is None
            or not isinstance(name, str)
            or name not in LIST_FILTERS[kind]
            or not isinstance(tag, str)
            or (tag and TAG_NAME.fullmatch(tag) is None)
            or not isinstance(words, str)
            or len(words) > MAX_SEARCH
            or type(shown) is not int
            or not 0 < shown < 10**9
            or not isinstance(after, str)
        ):
            raise UsageError(STALE_LIST)
        wanted = ListItems(kind, name, tag or None, " ".join(words.split()) or None)
        if not valid_cursor(after, order_of(wanted)):
            raise UsageError(STALE_LIST)
        return cls(wanted, shown, after)


class Lists:
    def __init__(self, queues: QueueStore, clock: Clock, count_cap: int = COUNT_CAP) -> None:
        self.queues = queues
        self.clock = clock
        self.count_cap = count_cap

    def first(self, channel_id: str, wanted: ItemFilter) -> Message:
        """The first page of the team's items that `wanted` names."""
        return self._page(channel_id, wanted, 0, None)

    def risks(self, channel_id: str, filter: str) -> list[Message]:
        """`/risk list`: the team's market risks, then its operational risks, each a list of
        its own (with its own "More")."""
        return [self.first(channel_id, ListItems(kind, filter)) for kind in RISK_KINDS]

    def more(self, channel_id: str, value: object) -> Message:
        """The page after the one whose "More" button carried `value`, of the team channel the
        list was shown in (Slack names it; the value never does)."""
        place = Place.decode(value)
        return self._page(channel_id, place.wanted, place.shown, place.after)

    def _page(self, channel_id: str, wanted: ItemFilter, shown: int, after: str | None) -> Message:
        query = queue_query(channel_id, wanted)
        page = self.queues.page(query, LIST_PAGE, after)
        total = self.queues.count(query, self.count_cap)
        more = None
        if page.after is not None:
            more = Place(wanted, shown + len(page.entries), page.after).encode()
        listing = ListPage(
            channel_id=channel_id,
            kind=wanted.kind,
            filter=wanted.filter,
            tag=wanted.tag,
            words=wanted.words,
            newest_first=query.order is QueueOrder.NEWEST,
            total=min(total, self.count_cap),
            at_least=total > self.count_cap,
            start=shown,
            more=more,
        )
        return queue_page(listing, page.entries, self.clock())
