"""Who is in a team's channel, as Slack says (conversations.members).

A team is a channel, and someone may hold its role without being in it (they left, or never
joined): Home, the modals' search menus and `/role` only show or give a team to people in its
channel. Each channel's members are kept `ttl_seconds` in this process, so a Home build or a
menu asks Slack about a team at most once a minute (someone who left still counts for up to a
minute). Giving a role or filing into a channel asks afresh about someone the kept members
lack (`recheck_absent`), so a person just invited counts at once. A
channel Slack would not list counts as one the person is not in (fail closed), and the caller
learns which and why, to tell the person.
"""

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)

TTL_SECONDS = 60.0  # someone who left a channel counts as gone after this, at most
MEMBERS_PAGE = 1000  # Slack's largest conversations.members page
NETWORK_ERROR = "network_error"  # no answer from Slack: no error code of its own
INVITE = "invite Rolecall there (`/invite @Rolecall`)"
# What the person can do about each reason Slack gives; any other: try again.
REMEDY = {
    "missing_scope": (
        "ask an admin to reinstall Rolecall with the channels:read and groups:read scopes"
    ),
    "not_in_channel": INVITE,
    "channel_not_found": INVITE,
}
AGAIN = "try again in a minute"


@dataclass(frozen=True)
class Among:
    """Of some channels: those the person is in, and those Slack would not list (each with
    Slack's error code), which count as channels they are not in."""

    channels: list[str]
    unchecked: dict[str, str] = field(default_factory=dict)

    def note(self) -> str | None:
        """What to tell the person about the channels that could not be checked (mrkdwn)."""
        by_remedy: dict[str, list[str]] = {}
        for channel_id, code in self.unchecked.items():
            by_remedy.setdefault(REMEDY.get(code, AGAIN), []).append(f"<#{channel_id}>")
        lines = [
            f"Rolecall could not check who is in {', '.join(channels)}: {remedy}."
            for remedy, channels in by_remedy.items()
        ]
        return " ".join(lines) or None


class Membership:
    def __init__(
        self,
        client: WebClient,
        monotonic: Callable[[], float] = time.monotonic,
        ttl_seconds: float = TTL_SECONDS,
    ) -> None:
        """`monotonic` times how long members are kept: tests pass their own."""
        self.client = client
        self.monotonic = monotonic
        self.ttl_seconds = ttl_seconds
        self._lock = threading.Lock()  # requests on many threads read and fill the cache
        self._kept: dict[str, tuple[frozenset[str], float]] = {}  # channel → members, until

    def is_member(self, channel_id: str, user_id: str) -> bool:
        return bool(self.members_among([channel_id], user_id).channels)

    def members_among(
        self, channel_ids: Iterable[str], user_id: str, *, recheck_absent: bool = False
    ) -> Among:
        """The channels, in their order, that the person is in; and those Slack would not
        list, whatever the reason (never raised: the caller shows less, and says why)."""
        channels: list[str] = []
        unchecked: dict[str, str] = {}
        for channel_id in dict.fromkeys(channel_ids):
            try:
                if self._is_in(channel_id, user_id, recheck_absent):
                    channels.append(channel_id)
            except SlackApiError as error:
                unchecked[channel_id] = str(error.response.get("error"))
            except OSError:  # a timeout or a dropped connection, after the client's retries
                unchecked[channel_id] = NETWORK_ERROR
        for channel_id, code in unchecked.items():
            log.warning("could not list the members of %s: %s", channel_id, code)
        return Among(channels, unchecked)

    def _is_in(self, channel_id: str, user_id: str, recheck_absent: bool) -> bool:
        """Whether the channel's kept members have them; else (or when they are kept without
        them and `recheck_absent`) whether Slack lists them (read page by page, and kept)."""
        now = self.monotonic()
        with self._lock:
            kept = self._kept.get(channel_id)
        fresh = kept is not None and now < kept[1]
        if kept is not None and fresh and (user_id in kept[0] or not recheck_absent):
            return user_id in kept[0]
        members: set[str] = set()
        cursor = None
        while True:
            response = self.client.conversations_members(
                channel=channel_id, limit=MEMBERS_PAGE, cursor=cursor
            )
            members.update(response.get("members") or [])
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        with self._lock:
            self._kept[channel_id] = (frozenset(members), now + self.ttl_seconds)
        return user_id in members
