"""The open feedback each team's new feedback is compared with, kept in memory a short while:
its newest items and its most +1'd (an old, popular request is the one most often asked again).

Reading the candidates for every filing put a query (and, for a match, a second write) on
every filing: under 100 filings a second to one team, cards fell from 97 to about 60 a second.
Here a team's candidates are read at most once per `FRESH_FOR`, and an item this process
files joins its team's list at once. Between reads the list may lag other replicas (a missed
hint) or hold an item triaged since (the card shows a suggestion only while its original is
open): a hint may be late, never wrong about what it shows.
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.similarity import best_match
from storage.models import ItemKind
from storage.queues import QueueStore

CANDIDATES = 100  # the newest open feedback a new item is compared with, and as many most +1'd
FRESH_FOR = 30.0  # seconds a team's list is used before it is read again


@dataclass
class _Recent:
    read_at: float
    newest: list[tuple[int, str]] = field(default_factory=list)  # newest first
    popular: list[tuple[int, str]] = field(default_factory=list)  # most +1'd first

    def items(self) -> list[tuple[int, str]]:
        """Both lists, each item once."""
        newest = {item_id for item_id, _ in self.newest}
        return self.newest + [entry for entry in self.popular if entry[0] not in newest]


class Lookalikes:
    def __init__(self, queues: QueueStore, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.queues = queues
        self.monotonic = monotonic
        self._teams: dict[str, _Recent] = {}
        self._lock = threading.Lock()

    def original_of(self, team_channel_id: str, text: str) -> int | None:
        """The open feedback of the team that `text` most resembles, if close enough to be
        trusted (`bot.similarity.LOOKS_LIKE`)."""
        match = best_match(text, self._candidates(team_channel_id))
        return None if match is None else match[0]

    def filed(self, team_channel_id: str, item_id: int, text: str) -> None:
        """New feedback this process stored: the next filing is compared with it too."""
        with self._lock:
            recent = self._teams.get(team_channel_id)
            if recent is not None:
                recent.newest = [(item_id, text), *recent.newest][:CANDIDATES]

    def _candidates(self, team_channel_id: str) -> list[tuple[int, str]]:
        now = self.monotonic()
        with self._lock:
            recent = self._teams.get(team_channel_id)
            if recent is not None and now - recent.read_at < FRESH_FOR:
                return recent.items()
        newest, popular = self.queues.lookalike_words(
            team_channel_id, ItemKind.FEEDBACK, CANDIDATES
        )
        recent = _Recent(now, newest, popular)
        with self._lock:
            self._teams[team_channel_id] = recent
        return recent.items()
