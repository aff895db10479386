"""Which workspaces Rolecall may post to.

Slack says when it may not: `app_uninstalled`, or `tokens_revoked` naming the bot's token. From
then on nothing is posted there (what is owed waits in the outbox; the data is kept) until Slack
sends anything from that workspace again, which only happens once the app is reinstalled.
"""

import logging
import threading
from datetime import datetime, timedelta

from bot.clock import Clock
from storage.workspaces import WorkspaceStore

log = logging.getLogger(__name__)

REFRESH = timedelta(seconds=30)  # how stale another replica's news of an uninstall may be


class Workspaces:
    def __init__(self, store: WorkspaceStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self.rate_limited_minutes = 0  # minutes in which Slack dropped events for our app
        self._lock = threading.Lock()
        self._inactive: set[str] = set()
        self._read_at: datetime | None = None

    def uninstalled(self, team_id: str, reason: str) -> None:
        self.store.set_active(team_id, False, reason, self.clock())
        with self._lock:
            self._inactive.add(team_id)
        log.warning("workspace %s deactivated (%s): nothing is posted there", team_id, reason)

    def heard_from(self, team_id: str) -> None:
        """A request from a workspace we stopped posting to: the app is installed again."""
        if team_id not in self._current():
            return
        self.store.set_active(team_id, True, "reinstalled", self.clock())
        with self._lock:
            self._inactive.discard(team_id)
        log.warning("workspace %s active again", team_id)

    def posting_allowed(self) -> bool:
        """With one bot token (one workspace), whether that workspace still has the app."""
        return not self._current()

    def rate_limited(self, team_id: str, minute: object) -> None:
        """Slack dropped events for the app (`app_rate_limited`): worth an operator's look."""
        with self._lock:
            self.rate_limited_minutes += 1
        log.warning("Slack rate-limited events for workspace %s in minute %s", team_id, minute)

    def _current(self) -> set[str]:
        now = self.clock()
        with self._lock:
            if self._read_at is not None and now - self._read_at < REFRESH:
                return set(self._inactive)
        inactive = self.store.inactive()
        with self._lock:
            self._inactive, self._read_at = inactive, now
            return set(inactive)
