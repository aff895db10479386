"""What a signed request may carry before a listener sees it.

Slack writes its ids (users, channels, teams, triggers, events, message timestamps) as short
ASCII words; a request whose ids are anything else was not built by Slack and is refused (400)
before it can reach a query. NUL characters are stripped from all text: PostgreSQL refuses them
in a text column where SQLite would store them, and no person means one.
"""

import logging
import re
from collections.abc import Callable
from typing import Any

from slack_bolt import BoltRequest, BoltResponse

log = logging.getLogger(__name__)

ID_FIELDS = frozenset(
    {
        "user_id",
        "channel_id",
        "team_id",
        "enterprise_id",
        "trigger_id",
        "event_id",
        "user",
        "channel",
        "ts",
        "thread_ts",
        "event_ts",
        "message_ts",
        "item_user",
    }
)
# Content whose shape Slack does not fix (people's blocks and files, our own messages echoed back):
# not searched for ids, only cleaned of NUL.
CONTENT_FIELDS = frozenset(
    {"blocks", "attachments", "files", "message", "previous_message", "view", "state", "metadata"}
)
SLACK_ID = re.compile(r"[A-Za-z0-9._-]{1,64}", re.ASCII)


def sanitise(
    req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
) -> BoltResponse:
    """Bolt global middleware: strip NUL characters, refuse malformed ids."""
    req.body = {key: _without_nul(value) for key, value in req.body.items()}
    malformed = _malformed_shape(req.body) or _malformed_id(req.body)
    if malformed is not None:
        log.warning("refused a signed request with a malformed %s", malformed)
        return BoltResponse(status=400, body=f"malformed {malformed}")
    return next()


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {key: _without_nul(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    return value


def _malformed_shape(body: dict[str, Any]) -> str | None:
    """The first field Bolt reads to route a request whose type is not the one Slack sends."""
    for key in ("event", "view", "container", "message", "state"):
        if key in body and not isinstance(body[key], dict):
            return key
    for key in ("user", "channel", "team"):
        if key in body and not isinstance(body[key], dict | str | None):
            return key
    actions = body.get("actions", [])
    if not isinstance(actions, list) or not all(
        isinstance(action, dict) and isinstance(action.get("action_id"), str) for action in actions
    ):
        return "actions"
    return None


def _malformed_id(value: object) -> str | None:
    """The name of the first id field whose value is not a Slack id, searching the whole body."""
    if isinstance(value, list):
        return next((m for m in map(_malformed_id, value) if m is not None), None)
    if not isinstance(value, dict):
        return None
    for key, item in value.items():
        if key in CONTENT_FIELDS:
            continue
        if key in ID_FIELDS and isinstance(item, str):
            if item and not SLACK_ID.fullmatch(item):
                return str(key)
        else:
            found = _malformed_id(item)
            if found is not None:
                return found
    return None
