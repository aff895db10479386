"""The weekly digest thread: what is due when, what it says, and posting it through the outbox.

A digest is a parent message and one reply per role, each a keyed send claimed on its own and in
order: a run that fails halfway is finished by the next one in the same thread, never started
over, and two runners never both post a part.

A scheduled digest covers the seven local days before its scheduled day and is posted at the
team's first working moment at or after its slot. A team with nothing to say gets no digest, or
one line (its `QuietWeek` setting): "nothing to say" is exactly a digest whose every count and
list would be empty — no feedback filed and no blocker resolved in the period; no feedback
waiting for triage (open: feedback that needs info or is snoozed is not listed, so not
counted), no open blocker, market or operational risk; no milestone overdue or due in the next
14 days, no overdue deadline, no scope accepted after a freeze, no roadmap theme this quarter.

A digest names people rather than mentioning them (a mention pings, and a digest lands at the
team's opening, not each reader's): their names are read from Slack for each build and kept a
few minutes, so a preview, its post and the recounts after clicks read them once.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as wall_time
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block

from bot.blocks.common import Message, Names
from bot.blocks.digest import (
    DIGEST_ITEMS,
    Digest,
    digest_parent,
    item_people,
    people,
    period_label,
    product_headings,
    product_reply,
    project_headings,
    project_reply,
    quiet_line,
)
from bot.clock import Clock
from bot.outbox import LEASE, Outbox, Render
from bot.people import SlackNames
from bot.permissions import Permissions
from bot.schedule import ONE_DAY, latest_digest, local_instant, local_today, zone
from bot.working_time import WorkingTime
from storage.calendar import CalendarStore
from storage.digest import DigestStore, ProductDigest, ProjectDigest
from storage.models import Item, OutboxSend, QuietWeek, Role, SendKind, SendStatus
from storage.outbox import OutboxStore, Send
from storage.roadmap import Quarter
from storage.teams import TeamStore

WEEK = timedelta(days=7)
HORIZON = timedelta(days=14)
SECOND = timedelta(seconds=1)
MIDNIGHT = wall_time(0)
# Holidays read for a run: a slot is at most a week old, and its local day may be a day off UTC's.
HOLIDAYS_BACK = timedelta(days=9)


@dataclass(frozen=True)
class Window:
    """The local days a digest covers, first and last included: from `since` (the first day's
    local midnight) to `until` (the local midnight after the last day)."""

    since: datetime
    until: datetime
    first: date
    last: date

    @classmethod
    def before(cls, day: date, tz: ZoneInfo) -> "Window":
        """The seven days before `day` (a scheduled digest's): the next one starts where it
        ends."""
        first = day - WEEK
        return cls(
            local_instant(first, MIDNIGHT, tz),
            local_instant(day, MIDNIGHT, tz),
            first,
            day - ONE_DAY,
        )

    @classmethod
    def up_to(cls, now: datetime, tz: ZoneInfo) -> "Window":
        """Today and the six days before it: a digest asked for (`/digest`)."""
        today = local_today(now, tz)
        return cls.before(today + ONE_DAY, tz)

    @property
    def label(self) -> str:
        return period_label(self.first, self.last)

    def stored(self) -> dict[str, Any]:
        """The window as a digest send keeps it: a click in the thread recounts that period."""
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "first": self.first.isoformat(),
            "last": self.last.isoformat(),
        }

    @classmethod
    def from_stored(cls, stored: dict[str, Any] | None) -> "Window | None":
        """None for a send that kept no window (posted before windows were kept)."""
        if not stored or "since" not in stored:
            return None
        return cls(
            datetime.fromisoformat(stored["since"]),
            datetime.fromisoformat(stored["until"]),
            date.fromisoformat(stored["first"]),
            date.fromisoformat(stored["last"]),
        )


@dataclass(frozen=True)
class DueDigest:
    """One digest thread to post; `due_at` is when it became due (none when asked for)."""

    channel_id: str
    key: str
    window: Window
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
        calendar: CalendarStore,
        names: SlackNames,
        clock: Clock,
    ) -> None:
        self.store = store
        self.teams = teams
        self.sends = sends
        self.outbox = outbox
        self.permissions = permissions
        self.calendar = calendar
        self.names = names
        self.clock = clock

    def preview_reply(self, channel_id: str, role: Role) -> Message:
        """One role's part of the preview, as it stands now (after a click in the preview)."""
        return self.content(channel_id, self.clock()).replies[role]

    def preview(self, channel_id: str) -> list[Message]:
        """`/digest`: the last seven days' digest as it would be posted now, for one person's
        eyes (in full, even when there is nothing to say: it was asked for)."""
        content = self.content(channel_id, self.clock())
        return [content.parent, *content.replies.values()]

    def post_on_request(self, channel_id: str, user_id: str) -> str:
        """`/digest post`: post the last seven days' digest now (an extra one, under its own
        key)."""
        self.permissions.require_team_manager(channel_id, user_id, "post its digest")
        at = self.clock()
        if self.post_now(channel_id, at):
            period = Window.up_to(at, zone(self.teams.settings(channel_id).timezone)).label
            return f"Posted the digest of {period} in <#{channel_id}>."
        return "I couldn't post the digest just now; please try again in a minute."

    def content(self, channel_id: str, now: datetime, window: Window | None = None) -> Digest:
        """The team's digest as of `now`: the period `window` (default: the last seven days up
        to now) and what is open and ahead."""
        return self.facts(channel_id, now, window).digest(self.names)

    def facts(self, channel_id: str, now: datetime, window: Window | None = None) -> "Facts":
        """What the team's digest as of `now` says, before it is written (see `content`)."""
        tz = zone(self.teams.settings(channel_id).timezone)
        window = window or Window.up_to(now, tz)
        today = local_today(now, tz)
        since, until = window.since, window.until
        return Facts(
            channel_id,
            now,
            today,
            window.label,
            {role: self.teams.holders(channel_id, role) for role in Role},
            self.store.product(channel_id, since, until, DIGEST_ITEMS, Quarter.of(today)),
            self.store.project(channel_id, since, until, today, today + HORIZON, DIGEST_ITEMS),
        )

    def row_names(self, item: Item) -> Names:
        """The names an item's digest rows show (`settled_in_place`)."""
        return self.names.names(item_people(item))

    def headings(self, reply: OutboxSend) -> list[Block]:
        """A posted reply's counted headings, recounted now (its period's counts as they stand):
        what a triage in its thread swaps in."""
        role = Role(reply.key.rsplit(":", 1)[1])
        channel_id = reply.destination
        if role is Role.PROJECT:
            return project_headings(self.store.open_blockers(channel_id))
        window = Window.from_stored(reply.message)
        if window is None:
            return []
        counts = self.store.feedback_counts(channel_id, window.since, window.until)
        return product_headings(counts, window.label)

    def due(self, at: datetime) -> list[DueDigest]:
        """Each team's digest for the latest scheduled instant (and the one before, when days
        off held it back past the latest), unless it was settled: due at the team's first working
        moment at or after the slot, and only while the team is at work (a runner down all day
        posts at the next opening, not at 22:00). The key stays the slot's week, so it is
        posted once however late."""
        holidays = self.calendar.holidays_by_team((at - HOLIDAYS_BACK).astimezone(UTC).date())
        due: list[DueDigest] = []
        for team in self.teams.teams():
            settings = team.settings
            tz = zone(settings.timezone)
            wall = wall_time(settings.digest_hour, settings.digest_minute)
            latest = latest_digest(at, tz, settings.digest_weekday, wall)
            earlier = latest_digest(latest.at - SECOND, tz, settings.digest_weekday, wall)
            channel = settings.channel_id
            hours = WorkingTime.of_team(settings, holidays.get(channel, frozenset()))
            if not hours.is_open(at):
                continue
            # The slot before counts only when days off held it past the latest one (a
            # shutdown week); a runner that was merely down posts the latest alone.
            held_back = hours.next_opening(earlier.at) >= latest.at
            for slot in (earlier, latest) if held_back else (latest,):
                opening = hours.next_opening(slot.at)
                if slot.at < team.since or at < opening:
                    continue  # the team did not exist yet then, or it is not time yet
                key = f"digest:{channel}:{slot.week}"
                due.append(DueDigest(channel, key, Window.before(slot.day, tz), opening))
        settled = self.sends.settled([part_key(d.key, part) for d in due for part in PARTS])
        return [d for d in due if any(part_key(d.key, p) not in settled for p in PARTS)]

    def post(self, due: DueDigest, at: datetime) -> Progress:
        """Post what is left of this digest thread, parent first, then the replies in order.

        Whether a scheduled digest is quiet is decided once, by the run that first claims its
        parent (so it reads what the digest says before claiming; people's names are read only
        when a part is posted), and kept with that claim: a retry posts the same kind of
        thread. A digest asked for is posted in full."""
        facts = cache(lambda: self.facts(due.channel_id, at, due.window))
        content = cache(lambda: facts().digest(self.names))  # names read when first posted

        def reply(role: Role) -> Render:
            return lambda _: content().replies[role]

        key = parent_key(due.key)
        parent = self.sends.get(key)
        posted = 0
        if parent is not None and parent.status is SendStatus.SENT:
            thread_ts = parent.message_ts
            quiet = _quiet(parent)
        else:
            scheduled = due.due_at is not None
            quiet = _quiet(parent) if parent is not None else scheduled and facts().quiet
            settings = self.teams.settings(due.channel_id)
            if quiet and settings.quiet_week is QuietWeek.SKIP:
                self._settle_unposted(due, PARTS)
                return Progress()
            outcome = self.outbox.send(
                [Send(key, SendKind.DIGEST, message={"quiet": quiet, **due.window.stored()})],
                due.channel_id,
                lambda _: quiet_line(due.channel_id) if quiet else content().parent,
                paced=True,
                due=due.due_at,
            )
            if outcome.ts is None:  # another runner is posting it, or it failed
                return Progress(failed=outcome.failed)
            thread_ts, posted = outcome.ts, int(outcome.posted)
        if quiet:  # one line, no replies
            self._settle_unposted(due, tuple(role.value for role in Role))
            return Progress(posted)
        for role in Role:
            role_key = part_key(due.key, role.value)
            if self.sends.settled([role_key]):
                continue
            outcome = self.outbox.send(
                [Send(role_key, SendKind.DIGEST, message=due.window.stored())],
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
        """`/digest post`: the weekly digest's path, under a key of its own, for the last seven
        days up to `at` (posted in full even when there is nothing to say: it was asked for)."""
        window = Window.up_to(at, zone(self.teams.settings(channel_id).timezone))
        due = DueDigest(channel_id, f"digest:{channel_id}:now:{at.isoformat()}", window)
        progress = self.post(due, at)
        return progress.posted > 0 and progress.failed == 0

    def _settle_unposted(self, due: DueDigest, parts: tuple[str, ...]) -> None:
        """Record parts of a quiet digest as done without posting them: no run owes them."""
        now = self.clock()
        sends = [
            Send(part_key(due.key, part), SendKind.DIGEST, message=due.window.stored())
            for part in parts
        ]
        won = self.sends.claim(sends, due.channel_id, now, now - LEASE, "")
        if won:
            self.sends.record_final(list(won), SendStatus.SENT, now)


@dataclass(frozen=True)
class Facts:
    """A team's digest before it is written: what its replies list, as of `now`."""

    channel_id: str
    now: datetime
    today: date
    period: str  # the label of the days it covers
    holders: dict[Role, list[str]]
    product: ProductDigest
    project: ProjectDigest

    @property
    def quiet(self) -> bool:
        """Every count and list is empty: nothing to say."""
        return self.product.quiet and self.project.quiet

    def digest(self, slack_names: SlackNames) -> Digest:
        """The digest, naming everyone in it (their names read once, for the whole digest)."""
        named = people(self.product, self.project).union(*self.holders.values())
        known = slack_names.names(named)
        channel_id = self.channel_id
        return Digest(
            parent=digest_parent(channel_id, self.period),
            replies={
                Role.PRODUCT: product_reply(
                    channel_id,
                    self.holders[Role.PRODUCT],
                    self.product,
                    self.now,
                    self.period,
                    known,
                ),
                Role.PROJECT: project_reply(
                    channel_id,
                    self.holders[Role.PROJECT],
                    self.project,
                    self.now,
                    self.today,
                    self.period,
                    known,
                ),
            },
        )


PARTS = ("parent", *(role.value for role in Role))


def part_key(key: str, part: str) -> str:
    return f"{key}:{part}"


def parent_key(key: str) -> str:
    """The key of a digest's parent, from the digest's key or any of its parts' keys
    (`digest:<channel>:<slot>` + `:parent` or `:<role>`)."""
    base = key.rsplit(":", 1)[0] if key.endswith(tuple(f":{p}" for p in PARTS)) else key
    return f"{base}:parent"


def _quiet(parent: OutboxSend | None) -> bool:
    """Whether the digest whose parent this is was claimed as a quiet one."""
    return bool(parent is not None and (parent.message or {}).get("quiet"))
