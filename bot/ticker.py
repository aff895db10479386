"""One run of the time loop: every nudge, escalation and digest due at an instant, posted once.

The in-process scheduler and `rolecall tick` both call `Ticker.tick(at)`. A run plans what is due
from the database alone, claims each send in the database (a unique key per item, kind and
local day), posts only what it won, and records the message ts. So two runs at once, or three
replicas, post everything exactly once; a failed post is handed back and retried by the next run.
Each post carries a metadata tag of its attempt, and a retry first looks for the earlier attempt
in the conversation: a post Slack accepted but whose response was lost is recorded, not repeated.

Everything due for one channel or person in one run goes out as one message, and posts to one
channel are paced (Slack allows about one message per second per channel).
"""

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as wall_time

from slack_sdk.errors import SlackApiError

from bot import time_blocks
from bot.blocks import Message
from bot.schedule import Stage, add_working_hours, current_nudge, latest_digest, zone
from bot.service import log_api_error
from bot.slack import find_posts, new_tag, post_tagged
from bot.timeline import Timeline
from storage.models import Delivery, Role, SendStatus, TeamSettings
from storage.store import Store

log = logging.getLogger(__name__)

# A claim older than this whose runner never recorded an outcome (it died mid-post) is retried.
LEASE = timedelta(minutes=10)
# Far enough ahead that "tomorrow" in every time zone (UTC+14) is included.
LOOKAHEAD = timedelta(days=2)
# A backlog of cards for one person drains over several runs, so nudges are never held up.
CARD_RETRIES_PER_RUN = 20
# A blocker younger than this cannot have waited the smallest escalation threshold.
MIN_ESCALATION = timedelta(hours=1)


@dataclass(frozen=True)
class Planned:
    """One send the plan wants: its claim key, where it goes, and its line of text."""

    key: str
    destination: str
    line: str


@dataclass
class TickReport:
    cards: int = 0  # item cards whose earlier post had failed, posted by this run
    planned: int = 0
    sent: int = 0
    messages: int = 0
    digests: int = 0
    failed: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(
        self, *, cards: int = 0, sent: int = 0, messages: int = 0, digests: int = 0, failed: int = 0
    ) -> None:
        with self._lock:
            self.cards += cards
            self.sent += sent
            self.messages += messages
            self.digests += digests
            self.failed += failed


class Pacer:
    """Spaces posts to one channel `interval` seconds apart, across runs of one process.

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


@dataclass(frozen=True)
class Won:
    """Sends this run claimed under `tag` and still has to post."""

    tag: str
    keys: set[str]


@dataclass(frozen=True)
class DueDigest:
    channel_id: str
    key: str
    week_of: date


class Ticker:
    def __init__(self, timeline: Timeline, threads: int = 8, pacer: Pacer | None = None) -> None:
        self.timeline = timeline
        self.service = timeline.service
        self.store: Store = timeline.store
        self.threads = threads
        self.pacer = pacer or Pacer()

    # Planning ----------------------------------------------------------------------------

    def plan(self, at: datetime) -> list[Planned]:
        """Every nudge and escalation due at `at` that was not posted yet."""
        settings = self.store.all_settings()
        managers = self.store.holders_by_channel(Role.PROJECT)
        planned: list[Planned] = []
        last_day = at.date() + LOOKAHEAD
        for tracked in self.store.milestones_due_by(last_day):
            milestone = tracked.milestone
            channel = milestone.team_channel_id
            tz = zone(_settings(settings, channel).timezone)
            nudge = current_nudge(milestone.due_date, tz, at, milestone.scheduled_at)
            if nudge is None:
                continue
            pms = managers.get(channel, []) if nudge.stage is Stage.OVERDUE else []
            planned.append(
                Planned(
                    f"milestone:{milestone.id}:{milestone.due_date}:{nudge.day}",
                    channel,
                    time_blocks.milestone_nudge(tracked, nudge, pms),
                )
            )
        for deadline in self.store.deadlines_due_by(last_day):
            nudge = current_nudge(
                deadline.due_date, zone(deadline.assignee_tz), at, deadline.scheduled_at
            )
            if nudge is None:
                continue
            base = f"deadline:{deadline.id}:{deadline.due_date}:{nudge.day}"
            assignee = deadline.assignee_id
            line = time_blocks.deadline_nudge(deadline, nudge, for_assignee=True)
            planned.append(Planned(f"{base}:{assignee}", assignee, line))
            if nudge.stage is Stage.OVERDUE:
                line = time_blocks.deadline_nudge(deadline, nudge, for_assignee=False)
                for pm in managers.get(deadline.team_channel_id, []):
                    if pm != assignee:
                        planned.append(Planned(f"{base}:{pm}", pm, line))
        for item in self.store.unacknowledged_blockers(at - MIN_ESCALATION):
            team = _settings(settings, item.team_channel_id)
            hours = team.escalation_hours
            if add_working_hours(item.created_at, hours, zone(team.timezone)) > at:
                continue
            pms = managers.get(item.team_channel_id, [])
            line = time_blocks.escalation(item, hours, pms)
            for destination in [*pms, item.team_channel_id]:
                planned.append(Planned(f"escalation:{item.id}:{destination}", destination, line))
        settled = self.store.settled([p.key for p in planned])
        return [p for p in planned if p.key not in settled]

    def due_digests(self, at: datetime) -> list[DueDigest]:
        """Each team's digest for the latest scheduled instant, unless it was posted."""
        due: list[DueDigest] = []
        for team in self.store.teams():
            settings = team.settings
            slot = latest_digest(
                at,
                zone(settings.timezone),
                settings.digest_weekday,
                wall_time(settings.digest_hour, settings.digest_minute),
            )
            if slot.at < team.since:
                continue  # the team did not exist yet at that instant
            due.append(
                DueDigest(
                    settings.channel_id, f"digest:{settings.channel_id}:{slot.week}", slot.week_of
                )
            )
        settled = self.store.settled([f"{d.key}:{Role.PROJECT}" for d in due])
        return [d for d in due if f"{d.key}:{Role.PROJECT}" not in settled]

    # Running -----------------------------------------------------------------------------

    def tick(self, at: datetime) -> TickReport:
        """Post everything due at `at` that nobody has posted; safe to run anywhere, anytime."""
        self.service.queue_missing_cards(at)
        card_retries: dict[str, list[Delivery]] = {}
        for delivery in self.store.deliveries_to_retry(at, at - LEASE):
            card_retries.setdefault(delivery.recipient, []).append(delivery)
        planned = self.plan(at)
        digests = self.due_digests(at)
        report = TickReport(planned=len(planned) + len(digests))
        work: dict[str, list[Callable[[], None]]] = {}
        for recipient, deliveries in card_retries.items():
            batch = deliveries[:CARD_RETRIES_PER_RUN]
            work.setdefault(recipient, []).append(
                lambda r=recipient, d=batch: self._retry_cards(r, d, at, report)  # type: ignore[misc]
            )
        by_destination: dict[str, list[Planned]] = {}
        for send in planned:
            by_destination.setdefault(send.destination, []).append(send)
        for destination, sends in by_destination.items():
            work.setdefault(destination, []).append(
                lambda d=destination, s=sends: self._remind(d, s, at, report)  # type: ignore[misc]
            )
        for digest in digests:
            work.setdefault(digest.channel_id, []).append(
                lambda d=digest: self._post_digest(d, at, report)  # type: ignore[misc]
            )
        with ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="tick") as pool:
            outcomes = {pool.submit(_run_all, jobs): where for where, jobs in work.items()}
        errors: list[BaseException] = []
        for future, where in outcomes.items():
            error = future.exception()
            if error is not None:
                log.error("scheduled posts for %s failed", where, exc_info=error)
                errors.append(error)
        if report.planned or report.cards:
            log.info(
                "tick %s: %d cards retried, %d due, %d sent in %d messages, %d digests, %d failed",
                at.isoformat(),
                report.cards,
                report.planned,
                report.sent,
                report.messages,
                report.digests,
                report.failed,
            )
        if errors:
            raise errors[0]  # every failure is logged above; the run itself failed
        return report

    def post_digest_now(self, channel_id: str, at: datetime) -> bool:
        """`/digest post`: the same claimed path as the weekly digest, under a key of its own."""
        today = self.timeline.today(channel_id, at)
        digest = DueDigest(
            channel_id,
            f"digest:{channel_id}:now:{at.isoformat()}",
            today - timedelta(days=today.weekday()),
        )
        report = TickReport()
        self._post_digest(digest, at, report)
        return report.digests == 1

    def _retry_cards(
        self, recipient: str, deliveries: list[Delivery], at: datetime, report: TickReport
    ) -> None:
        for delivery in deliveries:
            self.pacer.wait(recipient)
            if self.service.retry_card(delivery, at, LEASE):
                report.add(cards=1)

    def _remind(
        self, destination: str, sends: list[Planned], at: datetime, report: TickReport
    ) -> None:
        won = self._claim([s.key for s in sends], destination, at, report)
        if won is None:
            return
        lines = [s.line for s in sends if s.key in won.keys]
        if not lines:
            return
        label = "for you" if destination.startswith(("U", "W")) else f"for <#{destination}>"
        message = time_blocks.reminders(label, lines)
        if self._post(destination, message, sorted(won.keys), won.tag, at) is None:
            report.add(failed=len(won.keys))
        else:
            report.add(sent=len(won.keys), messages=1)

    def _post_digest(self, due: DueDigest, at: datetime, report: TickReport) -> None:
        """Parent, then one reply per role, each claimed on its own and in order: a run that
        fails halfway is finished by the next one in the same thread, never started over."""
        parent_key = f"{due.key}:parent"
        thread_ts = self._sent_ts(parent_key)
        parent = None
        if thread_ts is None:
            parent = self._claim([parent_key], due.channel_id, at, report)
            if parent is None:
                return  # another runner is posting this digest (or Slack could not be asked)
            if not parent.keys:
                thread_ts = self._sent_ts(parent_key)  # found: the earlier attempt got through
        content = self.timeline.digest(due.channel_id, at, due.week_of)
        posted = 0
        if thread_ts is None:
            assert parent is not None
            thread_ts = self._post(due.channel_id, content.parent, [parent_key], parent.tag, at)
            if thread_ts is None:
                report.add(failed=1)
                return
            posted += 1
        for role, reply in content.replies.items():
            key = f"{due.key}:{role}"
            if self.store.settled([key]):
                continue
            won = self._claim([key], due.channel_id, at, report, thread_ts)
            if won is None:
                return  # another runner is mid-thread; replies stay in order
            if not won.keys:
                continue  # found: the earlier attempt got through
            if self._post(due.channel_id, reply, [key], won.tag, at, thread_ts) is None:
                report.add(failed=1)
                return
            posted += 1
        if posted:
            report.add(digests=1)

    def _sent_ts(self, key: str) -> str | None:
        send = self.store.send(key)
        return send.message_ts if send and send.status == SendStatus.SENT else None

    def _claim(
        self,
        keys: list[str],
        destination: str,
        at: datetime,
        report: TickReport,
        thread_ts: str | None = None,
    ) -> Won | None:
        """Claim these sends for a new attempt and keep the ones still to post: a key whose
        earlier attempt is found in the conversation (Slack took the post, its response was
        lost) is recorded as sent. None: nothing won, or Slack could not be asked (the claims
        are handed back)."""
        tag = new_tag()
        claims = self.store.claim_sends(keys, destination, at, at - LEASE, tag)
        if not claims:
            return None
        earlier = {earlier_tag for earlier_tag in claims.values() if earlier_tag}
        try:
            found = find_posts(self.service.client, destination, earlier, thread_ts).posts
        except (SlackApiError, OSError) as error:
            self.store.record_failed(list(claims), at)
            report.add(failed=len(claims))
            log.error(
                "looking for earlier posts in %s failed, retried next run: %r", destination, error
            )
            return None
        for found_tag, ts in found.items():
            sent = [key for key, earlier_tag in claims.items() if earlier_tag == found_tag]
            self.store.record_sent(sent, ts, at)
            report.add(sent=len(sent))
        return Won(tag, {key for key, earlier_tag in claims.items() if earlier_tag not in found})

    def _post(
        self,
        destination: str,
        message: Message,
        keys: list[str],
        tag: str,
        at: datetime,
        thread_ts: str | None = None,
    ) -> str | None:
        """Post a claimed message tagged with its attempt and record its ts; on failure hand
        the claims back."""
        self.pacer.wait(destination)
        try:
            _, ts = post_tagged(
                self.service.client,
                tag,
                channel=destination,
                thread_ts=thread_ts,
                text=message.text,
                blocks=message.blocks,
                unfurl_links=False,
            )
        except SlackApiError as error:
            self.store.record_failed(keys, at)
            log_api_error(error, destination=destination, sends=len(keys))
            return None
        except OSError as error:  # network: connection refused or reset, timeout
            self.store.record_failed(keys, at)
            log.error("scheduled post to %s failed, retried next run: %r", destination, error)
            return None
        self.store.record_sent(keys, ts, at)
        return ts


def _settings(settings: dict[str, TeamSettings], channel_id: str) -> TeamSettings:
    """A team's settings, or the defaults, built once per team: a SQLModel object costs about
    50 µs, built per item that was 0.6 s of a 10k-nudge tick."""
    team = settings.get(channel_id)
    if team is None:
        team = settings[channel_id] = TeamSettings(channel_id=channel_id)
    return team


def _run_all(jobs: list[Callable[[], None]]) -> None:
    for job in jobs:
        job()
