"""What Rolecall reads about people from Slack: who is an admin, who is a person, their zone,
and the names the digest writes instead of mentions."""

import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks.common import Names
from bot.clock import Clock
from bot.parsing.words import UsageError
from bot.schedule import is_zone

log = logging.getLogger(__name__)


def zone_of(user: dict[str, Any]) -> str:
    """A profile's IANA time zone, as Slack gives it; UTC when missing or unknown here."""
    tz = str(user.get("tz") or "")
    return tz if is_zone(tz) else "UTC"


class People:
    def __init__(self, client: WebClient) -> None:
        self.client = client

    def profile(self, user_id: str) -> dict[str, Any]:
        """users.info; a user Slack does not know is a usage error, not a failure."""
        try:
            response = self.client.users_info(user=user_id)
        except SlackApiError as error:
            if error.response.get("error") == "user_not_found":
                raise UsageError(f"I can't find <@{user_id}> in this workspace.") from error
            raise
        user: dict[str, Any] = response["user"]
        return user

    def is_admin(self, user_id: str) -> bool:
        user = self.profile(user_id)
        return bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))

    def require_person(self, user_id: str, purpose: str) -> dict[str, Any]:
        """The profile of someone who must be a person: not a bot, not deactivated."""
        user = self.profile(user_id)
        if user.get("is_bot") or user.get("deleted"):
            raise UsageError(f"<@{user_id}> can't {purpose}: pick a person.")
        return user


NAMES_KEPT_FOR = timedelta(minutes=10)  # a renamed person reads by their new name after this
NAMES_KEPT = 1000  # people whose names are kept (a digest names at most a few dozen)


class SlackNames:
    """People's names as Slack gives them (users.info), each kept for `ttl`, at most `size`
    of them (the least recently read are dropped first)."""

    def __init__(
        self,
        client: WebClient,
        clock: Clock,
        ttl: timedelta = NAMES_KEPT_FOR,
        size: int = NAMES_KEPT,
    ) -> None:
        self.client = client
        self.clock = clock
        self.ttl = ttl
        self.size = size
        self._kept: OrderedDict[str, tuple[str, datetime]] = OrderedDict()
        self._lock = threading.Lock()  # runs post different teams' digests on threads

    def names(self, user_ids: Iterable[str]) -> Names:
        """The names of `user_ids`, read from Slack for those not kept. A person Slack doesn't
        know, or whose read failed, has none (they read "someone"); a network failure is
        raised (the digest is posted by a later run)."""
        now = self.clock()
        known: dict[str, str] = {}
        for user_id in sorted(set(user_ids)):
            kept = self._kept_name(user_id, now)
            name = kept if kept is not None else self._read(user_id, now)
            if name:
                known[user_id] = name
        return Names(known)

    def _kept_name(self, user_id: str, now: datetime) -> str | None:
        with self._lock:
            kept = self._kept.get(user_id)
            if kept is None or kept[1] <= now:
                return None
            self._kept.move_to_end(user_id)
            return kept[0]

    def _read(self, user_id: str, now: datetime) -> str | None:
        """users.info's name for the person ("" for one Slack doesn't know, kept as such);
        None when the read failed (not kept: the next build asks again). A 429 was already
        waited out by the client."""
        try:
            user = self.client.users_info(user=user_id)["user"]
        except SlackApiError as error:
            code = error.response.get("error")
            if code != "user_not_found":
                log.warning("users.info for %s failed: %s", user_id, code)
                return None
            name = ""
        else:
            profile = user.get("profile") or {}
            name = str(
                profile.get("display_name")
                or profile.get("real_name")
                or user.get("real_name")
                or ""
            )
        with self._lock:
            self._kept[user_id] = (name, now + self.ttl)
            self._kept.move_to_end(user_id)
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)
        return name
