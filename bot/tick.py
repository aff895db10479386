"""One run of the time loop: everything due at an instant, handed to the outbox.

The in-process scheduler and `rolecall tick` both call `Ticker.tick(at)`. A run plans from the
database alone (owed cards, notices and webhook deliveries, due reminders, due digests), then
works through it one conversation (or webhook endpoint) per thread: posts to one channel or
person stay in order and paced, different ones go in parallel. What is posted exactly once is
the outbox's business, not the ticker's.
"""

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from bot.cards import Cards, Owed
from bot.digest import Digests, DueDigest
from bot.metrics import TICK_SECONDS
from bot.notices import Notices
from bot.reminders import Planned, Reminders
from bot.team_webhooks import Webhooks
from bot.triage import Triage
from storage.models import OutboxSend

log = logging.getLogger(__name__)

# A backlog of cards for one person drains over several runs, so nudges are never held up.
CARD_RETRIES_PER_RUN = 20


@dataclass
class TickReport:
    cards: int = 0  # cards whose earlier post failed (or never happened), posted by this run
    notices: int = 0  # notices whose earlier post failed, posted by this run
    webhooks: int = 0  # webhook deliveries retried and delivered by this run
    planned: int = 0
    sent: int = 0
    messages: int = 0
    digests: int = 0
    failed: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, count in counts.items():
                setattr(self, name, getattr(self, name) + count)

    def merge(self, other: "TickReport") -> None:
        """Add another run's counts (one workspace's, to the report of all)."""
        self.add(
            cards=other.cards,
            notices=other.notices,
            webhooks=other.webhooks,
            planned=other.planned,
            sent=other.sent,
            messages=other.messages,
            digests=other.digests,
            failed=other.failed,
        )


class Ticker:
    def __init__(
        self,
        cards: Cards,
        notices: Notices,
        reminders: Reminders,
        digests: Digests,
        webhooks: Webhooks,
        triage: Triage,
        threads: int = 8,
    ) -> None:
        self.triage = triage
        self.cards = cards
        self.notices = notices
        self.reminders = reminders
        self.digests = digests
        self.webhooks = webhooks
        self.threads = threads

    def tick(self, at: datetime) -> TickReport:
        """Post everything due at `at` that nobody has posted; safe to run anywhere, anytime."""
        with TICK_SECONDS.time():
            return self._tick(at)

    def _tick(self, at: datetime) -> TickReport:
        work: dict[str, list[Callable[[], None]]] = {}
        report = TickReport()

        def later(destination: str, job: Callable[[], None]) -> None:
            work.setdefault(destination, []).append(job)

        self.triage.wake(at)
        cards: dict[str, list[Owed]] = {}
        for owed in self.cards.owed(at):
            queued = cards.setdefault(owed.recipient, [])
            if owed not in queued and len(queued) < CARD_RETRIES_PER_RUN:
                queued.append(owed)
        for recipient, owed_cards in cards.items():
            later(recipient, partial(self._cards, owed_cards, report))
        for notice in self.notices.owed(at):
            later(notice.destination, partial(self._notice, notice, report))
        for delivery in self.webhooks.owed(at):
            later(f"webhook:{delivery.destination}", partial(self._webhook, delivery, report))
        planned = self.reminders.due(at)
        digests = self.digests.due(at)
        report.add(planned=len(planned) + len(digests))
        by_destination: dict[str, list[Planned]] = {}
        for reminder in planned:
            by_destination.setdefault(reminder.destination, []).append(reminder)
        for destination, reminders in by_destination.items():
            later(destination, partial(self._remind, destination, reminders, at, report))
        for digest in digests:
            later(digest.channel_id, partial(self._digest, digest, at, report))
        try:
            self._run(work)
        finally:
            if report.planned or report.cards or report.notices or report.webhooks or report.failed:
                log.info(
                    "tick %s: %d cards, %d notices and %d webhooks re-sent, %d due, %d sent in "
                    "%d messages, %d digests, %d failed",
                    at.isoformat(),
                    report.cards,
                    report.notices,
                    report.webhooks,
                    report.planned,
                    report.sent,
                    report.messages,
                    report.digests,
                    report.failed,
                )
        return report

    def _run(self, work: dict[str, list[Callable[[], None]]]) -> None:
        """Each conversation's jobs in order on one thread; every failure is logged with its
        traceback, then the run fails."""
        with ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="tick") as pool:
            outcomes = {pool.submit(_in_order, jobs): where for where, jobs in work.items()}
        errors: list[BaseException] = []
        for future, where in outcomes.items():
            error = future.exception()
            if error is not None:
                log.error("scheduled posts for %s failed", where, exc_info=error)
                errors.append(error)
        if errors:
            raise errors[0]

    def _cards(self, owed: list[Owed], report: TickReport) -> None:
        for card in owed:
            outcome = self.cards.resend(card)
            report.add(cards=int(outcome.ts is not None), failed=outcome.failed)

    def _notice(self, owed: OutboxSend, report: TickReport) -> None:
        outcome = self.notices.resend(owed)
        report.add(notices=int(outcome.ts is not None), failed=outcome.failed)

    def _webhook(self, owed: OutboxSend, report: TickReport) -> None:
        result = self.webhooks.resend(owed)
        report.add(webhooks=int(result == "posted"), failed=int(result in ("failed", "dead")))

    def _remind(
        self, destination: str, planned: list[Planned], at: datetime, report: TickReport
    ) -> None:
        outcome = self.reminders.send(destination, planned, at)
        report.add(sent=outcome.sent, messages=int(outcome.posted), failed=outcome.failed)

    def _digest(self, due: DueDigest, at: datetime, report: TickReport) -> None:
        progress = self.digests.post(due, at)
        report.add(digests=int(progress.posted > 0), failed=progress.failed)


def _in_order(jobs: list[Callable[[], None]]) -> None:
    for job in jobs:
        job()
