"""The weekly digest thread: what is due when, what it says, and posting it through the outbox.

A digest is a parent message and one reply per role, each a keyed send claimed on its own and in
order: a run that fails halfway is finished by the next one in the same thread, never started
over, and two runners never both post a part.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as wall_time
from functools import cache

from bot.blocks.common import Message
from bot.blocks.digest import (
    DIGEST_ITEMS,
    Digest,
    digest_parent,
    product_reply,
    project_reply,
)
from bot.clock import Clock
from bot.outbox import Outbox, Render
from bot.permissions import Permissions
from bot.schedule import latest_digest, local_today, zone
from storage.digest import DigestStore
from storage.models import Role, SendKind, SendStatus
from storage.outbox import OutboxStore, Send
from storage.roadmap import Quarter
from storage.teams import TeamStore

WEEK = timedelta(days=7)
HORIZON = timedelta(days=14)


@dataclass(frozen=True)
class DueDigest:
    """One digest thread to post; `due_at` is its scheduled instant (none when asked for)."""

    channel_id: str
    key: str
    week_of: date
    due_at: datetime | None = None


@dataclass(frozen=True)
class Progress:
    """What one run did for one digest thread."""

    posted: int = 0  # parts posted by this run
    failed: int = 0  # parts whose post failed (retried by a later run)


class Digests:
    def __init__(
        self,
        store: DigestStore,
        teams: TeamStore,
        sends: OutboxStore,
        outbox: Outbox,
        permissions: Permissions,
        clock: Clock,
    ) -> None:
        self.store = store
        self.teams = teams
        self.sends = sends
        self.outbox = outbox
        self.permissions = permissions
        self.clock = clock

    def preview_reply(self, channel_id: str, role: Role) -> Message:
        """One role's part of the preview, as it stands now (after a click in the preview)."""
        return self.content(channel_id, self.clock()).replies[role]

    def preview(self, channel_id: str) -> list[Message]:
        """`/digest`: this week's digest as it would be posted now, for one person's eyes."""
        content = self.content(channel_id, self.clock())
        return [content.parent, *content.replies.values()]

    def post_on_request(self, channel_id: str, user_id: str) -> str:
        """`/digest post`: post this week's digest now (an extra one, under its own key)."""
        self.permissions.require_team_manager(channel_id, user_id, "post its digest")
        if self.post_now(channel_id, self.clock()):
            return f"Posted this week's digest in <#{channel_id}>."
        return "I couldn't post the digest just now; please try again in a minute."

    def content(self, channel_id: str, now: datetime, week_of: date | None = None) -> Digest:
        """The team's digest as of `now`: the week before it, and what lies ahead."""
        today = local_today(now, zone(self.teams.settings(channel_id).timezone))
        since = now - WEEK
        product = self.store.product(channel_id, since, DIGEST_ITEMS, Quarter.of(today))
        project = self.store.project(channel_id, since, today, today + HORIZON, DIGEST_ITEMS)
        start = week_of or today - timedelta(days=today.weekday())
        return Digest(
            parent=digest_parent(channel_id, start),
            replies={
                Role.PRODUCT: product_reply(
                    channel_id, self.teams.holders(channel_id, Role.PRODUCT), product, now
                ),
                Role.PROJECT: project_reply(
                    channel_id, self.teams.holders(channel_id, Role.PROJECT), project, now, today
                ),
            },
        )

    def due(self, at: datetime) -> list[DueDigest]:
        """Each team's digest for the latest scheduled instant, unless it was posted."""
        due: list[DueDigest] = []
        for team in self.teams.teams():
            settings = team.settings
            slot = latest_digest(
                at,
                zone(settings.timezone),
                settings.digest_weekday,
                wall_time(settings.digest_hour, settings.digest_minute),
            )
            if slot.at < team.since:
                continue  # the team did not exist yet at that instant
            channel = settings.channel_id
            due.append(DueDigest(channel, f"digest:{channel}:{slot.week}", slot.week_of, slot.at))
        settled = self.sends.settled([f"{d.key}:{Role.PROJECT.value}" for d in due])
        return [d for d in due if f"{d.key}:{Role.PROJECT.value}" not in settled]

    def post(self, due: DueDigest, at: datetime) -> Progress:
        """Post what is left of this digest thread, parent first, then the replies in order.
        The content is built only by a runner that won a part to post."""
        content = cache(lambda: self.content(due.channel_id, at, due.week_of))

        def reply(role: Role) -> Render:
            return lambda _: content().replies[role]

        parent = self.sends.get(parent_key(due.key))
        posted = 0
        if parent is not None and parent.status is SendStatus.SENT:
            thread_ts = parent.message_ts
        else:
            outcome = self.outbox.send(
                [Send(parent_key(due.key), SendKind.DIGEST)],
                due.channel_id,
                lambda _: content().parent,
                paced=True,
                due=due.due_at,
            )
            if outcome.ts is None:  # another runner is posting it, or it failed
                return Progress(failed=outcome.failed)
            thread_ts, posted = outcome.ts, int(outcome.posted)
        for role in Role:
            key = f"{due.key}:{role.value}"
            if self.sends.settled([key]):
                continue
            outcome = self.outbox.send(
                [Send(key, SendKind.DIGEST)],
                due.channel_id,
                reply(role),
                thread_ts=thread_ts,
                paced=True,
                due=due.due_at,
            )
            if outcome.ts is None:  # another runner is mid-thread (replies stay in order)
                return Progress(posted, outcome.failed)
            posted += outcome.posted
        return Progress(posted)

    def post_now(self, channel_id: str, at: datetime) -> bool:
        """`/digest post`: the weekly digest's path, under a key of its own."""
        today = local_today(at, zone(self.teams.settings(channel_id).timezone))
        week_of = today - timedelta(days=today.weekday())
        due = DueDigest(channel_id, f"digest:{channel_id}:now:{at.isoformat()}", week_of)
        progress = self.post(due, at)
        return progress.posted > 0 and progress.failed == 0


PARTS = ("parent", *(role.value for role in Role))


def parent_key(key: str) -> str:
    """The key of a digest's parent, from the digest's key or any of its parts' keys
    (`digest:<channel>:<slot>` + `:parent` or `:<role>`)."""
    base = key.rsplit(":", 1)[0] if key.endswith(tuple(f":{p}" for p in PARTS)) else key
    return f"{base}:parent"
