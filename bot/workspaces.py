"""Which workspaces Rolecall serves and may post to.

A workspace is recorded when it installs the app (or, with a single bot token, at start).
Slack says when it may no longer be posted to: `app_uninstalled`, or `tokens_revoked` naming
the bot's token. From then on nothing is posted there (what is owed waits in the outbox) until
it installs the app again, or Slack sends anything from it again, which only happens once the
app is reinstalled. Its data is kept for `KEEP_DATA` after an uninstall, then purged.
"""

import logging
import threading
from datetime import datetime, timedelta

from bot.clock import Clock
from storage.workspaces import WorkspaceStore

log = logging.getLogger(__name__)

REFRESH = timedelta(seconds=30)  # how stale another replica's news of an uninstall may be
KEEP_DATA = timedelta(days=30)  # an uninstalled workspace's data is purged after this


class Workspaces:
    def __init__(self, store: WorkspaceStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self.rate_limited_minutes = 0  # minutes in which Slack dropped events for our app
        self._lock = threading.Lock()
        self._inactive: set[str] = set()
        self._read_at: datetime | None = None

    def installed(self, workspace_id: str, team_id: str | None, enterprise_id: str | None) -> None:
        self.store.installed(workspace_id, team_id, enterprise_id, self.clock())
        with self._lock:
            self._inactive.discard(workspace_id)
        log.info("workspace %s installed", workspace_id)

    def uninstalled(self, workspace_id: str, reason: str) -> None:
        self.store.set_active(workspace_id, False, reason, self.clock())
        with self._lock:
            self._inactive.add(workspace_id)
        log.warning("workspace %s deactivated (%s): nothing is posted there", workspace_id, reason)

    def heard_from(self, workspace_id: str) -> None:
        """A request from a workspace we stopped posting to: the app is installed again."""
        if workspace_id not in self._current():
            return
        self.store.set_active(workspace_id, True, "reinstalled", self.clock())
        with self._lock:
            self._inactive.discard(workspace_id)
        log.warning("workspace %s active again", workspace_id)

    def posting_allowed(self, workspace_id: str) -> bool:
        """Whether the workspace still has the app."""
        return workspace_id not in self._current()

    def active(self) -> list[str]:
        """The workspaces scheduled work runs for."""
        return self.store.active()

    def purge(self, workspace_id: str) -> int:
        """Delete the workspace's data now; returns how many rows went."""
        removed = self.store.purge(workspace_id)
        with self._lock:
            self._inactive.discard(workspace_id)
        log.warning("workspace %s purged: %d rows deleted", workspace_id, removed)
        return removed

    def purge_expired(self) -> list[str]:
        """Purge every workspace uninstalled longer than `KEEP_DATA` ago."""
        expired = self.store.inactive_since(self.clock() - KEEP_DATA)
        for workspace_id in expired:
            self.purge(workspace_id)
        return expired

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
