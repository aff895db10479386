"""The one way Rolecall posts after an ack or on a schedule: keyed, claimed, tagged, once.

Every card, notice, nudge, escalation and digest message goes through `Outbox.send`:
1. claim its keys in the database (only one runner wins a key; a failed key is won again after a
   backoff, one whose runner died after a lease);
2. if earlier attempts of a key may have reached Slack (a response lost to a 5xx or a dropped
   connection, a runner that died mid-post), look for their metadata tags in the conversation
   and record what is found instead of posting again;
3. post what is left as one message carrying this attempt's tag;
4. record the message ts, or hand the claims back to be retried after a backoff.
"""

import itertools
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from bot.blocks.common import Message
from bot.clock import Clock
from bot.metrics import OUTBOX_SENDS, SCHEDULE_LAG, SLACK_RETRIES
from bot.slack_client import TAG_EVENT, log_api_error, tag_metadata
from bot.workspaces import Workspaces
from storage.outbox import OutboxStore, Send

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)  # a claim older than this whose runner never recorded is retaken
HAND_BACK_DELAY = timedelta(seconds=30)  # a claim given up at shutdown is retaken after this
PAGE = 200  # messages per lookup page: Slack's recommended page size
MAX_PAGES = 25  # a window of more than 5,000 messages is not searched further
SKEW = 60.0  # seconds between our clock and Slack's, allowed for in a lookup window
POST_RETRIES = 2  # after a 5xx or a dropped connection, as slack-sdk's own handlers would

Render = Callable[[list[Send]], Message]


def new_tag() -> str:
    """A tag for one post attempt: when it was made (8 hex digits of Unix time, the clock
    Slack's message timestamps use), then 8 random hex digits. The time bounds the lookup for
    this attempt however many messages came after it."""
    return f"{int(time.time()):08x}{uuid.uuid4().hex[:8]}"


Window = tuple[str, str]  # Slack's `oldest` and `latest`


def lookup_window(tags: set[str], now: float) -> Window | None:
    """The span of Slack timestamps where attempts with these tags may have landed: from the
    earliest attempt to a lease after the latest (an attempt posts within its lease). None
    (search only the latest page) when a tag carries no plausible time."""
    times = []
    for tag in tags:
        try:
            made = int(tag[:8], 16)
        except ValueError:
            return None
        if not now - 90 * 86400 < made <= now + SKEW:
            return None
        times.append(made)
    oldest, latest = min(times) - SKEW, max(times) + LEASE.total_seconds() + SKEW
    return f"{oldest:.6f}", f"{latest:.6f}"


class Pacer:
    """Spaces posts to one conversation `interval` seconds apart, across runs of one process.

    Slack allows about one message per second per channel; the margin covers network jitter.
    """

    def __init__(
        self,
        interval: float = 1.1,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = interval
        self.sleep = sleep
        self.monotonic = monotonic
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, destination: str) -> None:
        with self._lock:
            last = self._last.get(destination)
        if last is not None:
            delay = last + self.interval - self.monotonic()
            if delay > 0:
                self.sleep(delay)
        with self._lock:
            self._last[destination] = self.monotonic()


class Claims:
    """The outbox claims this process holds right now.

    A process that stops (SIGTERM) hands back those its work did not settle in time, so
    another replica retakes them within `HAND_BACK_DELAY` rather than after the lease. The
    delay lets a post that was in flight land first: the retaker looks for it before posting.
    """

    def __init__(self) -> None:
        self._held: dict[int, tuple[OutboxStore, list[str]]] = {}
        self._numbers = itertools.count()
        self._lock = threading.Lock()

    @contextmanager
    def holding(self, store: OutboxStore, keys: list[str]) -> Iterator[None]:
        with self._lock:
            number = next(self._numbers)
            self._held[number] = (store, keys)
        try:
            yield
        finally:
            with self._lock:
                del self._held[number]

    def hand_back(self, now: datetime) -> int:
        """Give up every claim still held; returns how many keys went back."""
        with self._lock:
            held = list(self._held.values())
        return sum(store.hand_back(keys, now + HAND_BACK_DELAY) for store, keys in held)


@dataclass(frozen=True)
class Outcome:
    """What one `send` did. `ts` is the message that now holds the sends, when all were
    settled (posted now or found from an earlier attempt)."""

    sent: int = 0
    failed: int = 0
    posted: bool = False
    ts: str | None = None


@dataclass
class Found:
    """Earlier attempts found in a conversation: tag -> ts, in `channel_id`."""

    channel_id: str
    posts: dict[str, str] = field(default_factory=dict)


class Outbox:
    def __init__(
        self,
        store: OutboxStore,
        client: WebClient,
        clock: Clock,
        pacer: Pacer,
        workspaces: Workspaces,
        claims: "Claims",
    ) -> None:
        self.store = store
        self.client = client
        self.clock = clock
        self.pacer = pacer
        self.workspaces = workspaces
        self.claims = claims

    def send(
        self,
        sends: Sequence[Send],
        destination: str,
        render: Render,
        *,
        thread_ts: str | None = None,
        paced: bool = False,
        find_only: bool = False,
        due: datetime | None = None,
    ) -> Outcome:
        """Post, as one message to `destination`, those of `sends` this runner wins and that
        were not posted before. `render` builds the message for the sends still to post.

        `paced` spaces this post from the last one to the same conversation: scheduled runs
        post many messages to one channel, where a burst would be answered 429. A post right
        after an ack is not paced (a 429 is waited out by the client instead). `find_only`
        records earlier attempts that are found and posts nothing new. `due` (scheduled posts)
        is when the earliest of `sends` was due: a post observes how late it came.

        Claims and outcomes carry the time they happen (the clock), never the instant a run
        plans for: a long run, or `rolecall tick --at` a past instant, must not make claims
        another runner would take as abandoned.
        """
        now = self.clock()
        if not self.workspaces.posting_allowed(self.store.workspace_id):
            # Uninstalled: what is owed is kept, queued, for when the app is back.
            self.store.queue([(send, destination) for send in sends], now)
            _count(sends, "queued")
            return Outcome()
        tag = new_tag()
        claims = self.store.claim(sends, destination, now, now - LEASE, tag)
        _count([s for s in sends if s.key not in claims], "skipped")
        if not claims:
            return Outcome()
        with self.claims.holding(self.store, list(claims)):
            return self._settle(
                sends, claims, destination, render, thread_ts, paced, find_only, due, tag, now
            )

    def _settle(
        self,
        sends: Sequence[Send],
        claims: dict[str, list[str]],
        destination: str,
        render: Render,
        thread_ts: str | None,
        paced: bool,
        find_only: bool,
        due: datetime | None,
        tag: str,
        now: datetime,
    ) -> Outcome:
        """Post what the claims won, after looking for earlier attempts that landed."""
        earlier = {earlier_tag for tags in claims.values() for earlier_tag in tags}
        try:
            found = self.find_posts(destination, earlier, thread_ts)
        except (SlackApiError, OSError) as error:
            self.store.record_failed(list(claims), now, maybe_posted=False)
            _count([s for s in sends if s.key in claims], "failed")
            log.error(
                "looking for earlier posts in %s failed, retried later: %r", destination, error
            )
            return Outcome(failed=len(claims))
        settled = {
            key: found.posts[earlier_tag]
            for key, tags in claims.items()
            for earlier_tag in tags
            if earlier_tag in found.posts
        }
        for ts in set(settled.values()):
            keys = [key for key, found_ts in settled.items() if found_ts == ts]
            self.store.record_sent(keys, found.channel_id, ts, now)
        _count([s for s in sends if s.key in settled], "found_earlier")
        remaining = [s for s in sends if s.key in claims and s.key not in settled]
        if not remaining:
            return Outcome(sent=len(settled), ts=next(iter(settled.values()), None))
        keys = [s.key for s in remaining]
        if find_only:  # not worth a new post: look again later, while the attempts are kept
            self.store.record_failed(keys, now, maybe_posted=False)
            _count(remaining, "deferred")
            return Outcome(sent=len(settled), failed=len(keys))
        try:
            message = render(remaining)
            if paced:
                self.pacer.wait(destination)
            channel_id, ts = self._post_tagged(tag, destination, thread_ts, message)
        except SlackApiError as error:
            self.store.record_failed(keys, now, maybe_posted=_maybe_posted(error))
            _count(remaining, "failed")
            log_api_error(error, destination=destination, keys=",".join(keys[:3]))
            return Outcome(sent=len(settled), failed=len(keys))
        except OSError as error:  # network: connection refused or reset, timeout
            self.store.record_failed(keys, now, maybe_posted=True)
            _count(remaining, "failed")
            log.error("post to %s failed, retried later: %r", destination, error)
            return Outcome(sent=len(settled), failed=len(keys))
        except BaseException:
            self.store.record_failed(keys, now, maybe_posted=True)
            _count(remaining, "failed")
            raise
        self.store.record_sent(keys, channel_id, ts, now)
        _count(remaining, "posted")
        if due is not None:
            late = max(0.0, (self.clock() - due).total_seconds())
            for kind in {s.kind for s in remaining}:
                SCHEDULE_LAG.labels(kind.value).observe(late)
        return Outcome(sent=len(claims), posted=True, ts=ts)

    def _post_tagged(
        self, tag: str, channel: str, thread_ts: str | None, message: Message
    ) -> tuple[str, str]:
        """Post and return (channel id, ts). After a 5xx or a dropped connection, look for the
        post before posting again: Slack may have taken it. A timeout, or the last error, is
        raised."""
        retries = 0
        while True:
            try:
                response = self.client.chat_postMessage(
                    channel=channel,
                    thread_ts=thread_ts,
                    text=message.text,
                    blocks=message.blocks or None,  # a text-only notice sends no blocks
                    metadata=tag_metadata(tag),
                    unfurl_links=False,
                )
                return response["channel"], response["ts"]
            except (SlackApiError, OSError) as error:
                retries += 1
                if retries > POST_RETRIES or not _maybe_posted(error) or _in_flight(error):
                    raise
            found = self.find_posts(channel, {tag}, thread_ts)
            if tag in found.posts:
                return found.channel_id, found.posts[tag]
            SLACK_RETRIES.labels("lost_post").inc()

    def find_posts(self, destination: str, tags: set[str], thread_ts: str | None = None) -> Found:
        """Look for posts carrying any of `tags` in `destination` (a channel, a thread in it, or
        a person's DM), page by page through the time window the tags give, however many
        messages came after them. A lookup Slack refuses (a missing scope, a channel the bot
        left) finds nothing: posting again risks a duplicate, not posting would lose the
        message. A 5xx or network error is raised: the caller tries again later."""
        found = Found(destination)
        if not tags:
            return found
        window = lookup_window(tags, time.time())
        try:
            if destination.startswith(("U", "W")):
                opened = self.client.conversations_open(users=destination)
                found.channel_id = opened["channel"]["id"]
            cursor = None
            for _ in range(MAX_PAGES):
                listing = self._listing(found.channel_id, thread_ts, window, cursor)
                for message in listing.get("messages") or []:
                    metadata = message.get("metadata") or {}
                    tag = (metadata.get("event_payload") or {}).get("tag")
                    if metadata.get("event_type") == TAG_EVENT and tag in tags:
                        found.posts[tag] = message["ts"]
                cursor = (listing.get("response_metadata") or {}).get("next_cursor")
                if not cursor or not window or found.posts.keys() >= tags:
                    break
        except SlackApiError as error:
            if error.response.status_code >= 500:
                raise
            log.warning(
                "could not look for earlier posts in %s (%s); posting again",
                destination,
                error.response.get("error"),
            )
        return found

    def _listing(
        self, channel_id: str, thread_ts: str | None, window: Window | None, cursor: str | None
    ) -> SlackResponse:
        oldest, latest = window or (None, None)
        page: dict[str, Any] = {
            "channel": channel_id,
            "oldest": oldest,
            "latest": latest,
            "inclusive": True,
            "limit": PAGE,
            "cursor": cursor,
            "include_all_metadata": True,
        }
        if thread_ts:
            return self.client.conversations_replies(ts=thread_ts, **page)
        return self.client.conversations_history(**page)


def _count(sends: Sequence[Send], outcome: str) -> None:
    for send in sends:
        OUTBOX_SENDS.labels(send.kind.value, outcome).inc()


def _in_flight(error: Exception) -> bool:
    """A timeout: Slack may still be working on the post and land it later, so looking for it
    now proves nothing. A later run (after the backoff) looks instead."""
    return isinstance(error, TimeoutError) or isinstance(
        getattr(error, "reason", None), TimeoutError
    )


def _maybe_posted(error: Exception) -> bool:
    if isinstance(error, SlackApiError):
        status: int = error.response.status_code
        return status >= 500
    return True  # network: the request may have reached Slack
