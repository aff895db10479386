"""What a signed request may carry before Bolt sees it: a body read the way Slack writes it.

Parsed here, not by Bolt: Bolt's parser takes any form whose text contains "payload" for an
interaction (a `/feedback the payload is too big` would vanish), and its request constructor
reads `team`, `user`, `authorizations`, … before any middleware could check them. So the body is
parsed once, checked, cleaned and handed to Bolt as a dict:
- shape: the fields Bolt routes on have the types Slack sends (else 400);
- ids: Slack writes its ids as short ASCII words, within Rolecall's columns (else 400);
- text: NUL characters are stripped (PostgreSQL refuses them in text, SQLite would store them).
"""

import json
import re
from typing import Any
from urllib.parse import parse_qsl

MAX_DEPTH = 32  # Slack's payloads nest a dozen levels at most
# Slack ids: users, channels, teams, message timestamps (Rolecall's columns hold 32 characters).
SLACK_ID = re.compile(r"[A-Za-z0-9._-]{1,32}", re.ASCII)
ID_FIELDS = frozenset(
    {
        "user_id",
        "channel_id",
        "team_id",
        "enterprise_id",
        "user",
        "channel",
        "ts",
        "thread_ts",
        "event_ts",
        "message_ts",
        "item_user",
    }
)
# Request ids, longer: trigger ids run to about 50 characters.
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}", re.ASCII)
REQUEST_ID_FIELDS = frozenset({"trigger_id", "event_id"})
# Objects named by an `id`: {"user": {"id": "U…"}, "team": {"id": "T…"}, …}.
NAMED = frozenset({"user", "channel", "team", "enterprise"})
# Content whose shape Slack does not fix (people's blocks and files, our own messages echoed
# back): not searched for ids, only cleaned of NUL.
CONTENT_FIELDS = frozenset(
    {"blocks", "attachments", "files", "message", "previous_message", "view", "state", "metadata"}
)


class Refusal(ValueError):
    """Why a signed body is not one Slack sends; the reason is safe to log and to answer."""


def read_body(content_type: str, text: str) -> dict[str, Any]:
    """The request as Slack built it: JSON (events), a form (commands), or a form carrying a
    JSON `payload` (interactions); checked and cleaned, or `Refusal`."""
    if content_type.startswith("application/json"):
        body = _typed(_json_object(text, "the body"))
    else:
        try:
            form = dict(parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text)))
        except ValueError:
            raise Refusal("the body is not a form") from None
        if "payload" in form:
            body = _typed(_json_object(form["payload"], "the payload"))
        elif "command" in form or "ssl_check" in form:
            body = dict(form)
        else:
            raise Refusal("the form is neither a command nor an interaction")
    _check(body, 0)
    cleaned: dict[str, Any] = _without_nul(body)
    return cleaned


def _typed(body: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(body.get("type"), str):
        raise Refusal("the body has no type")
    return body


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        raise Refusal(f"{what} is not JSON") from None
    if not isinstance(parsed, dict):
        raise Refusal(f"{what} is not a JSON object")
    return parsed


def _check(value: Any, depth: int) -> None:
    """Refuse a body whose routed fields have the wrong type or whose ids are not Slack's."""
    if depth > MAX_DEPTH:
        raise Refusal("the body nests too deeply")
    if isinstance(value, list):
        for item in value:
            _check(item, depth + 1)
        return
    if not isinstance(value, dict):
        return
    for key, item in value.items():
        if key in CONTENT_FIELDS:
            _depth_only(item, depth + 1)
            if item is not None and not isinstance(item, dict | list):
                raise Refusal(f"malformed {key}")
        elif key in NAMED and isinstance(item, dict):
            _check_id(item.get("id"), SLACK_ID, f"{key} id")
            _check(item, depth + 1)
        elif key in NAMED or key in ID_FIELDS or key in REQUEST_ID_FIELDS:
            _check_id(item, REQUEST_ID if key in REQUEST_ID_FIELDS else SLACK_ID, key)
        elif _misshapen(key, item):
            raise Refusal(f"malformed {key}")
        else:
            _check(item, depth + 1)


def _check_id(value: Any, pattern: re.Pattern[str], name: str) -> None:
    if value is None or value == "":
        return
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise Refusal(f"malformed {name}")


def _misshapen(key: str, value: Any) -> bool:
    """A field Bolt routes on (the event, the clicked actions, …) of a type Slack never sends."""
    if key in {"event", "container"}:
        return not isinstance(value, dict)
    if key in {"actions", "authorizations"}:
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            return True
        return key == "actions" and not all(isinstance(a.get("action_id"), str) for a in value)
    return False


def _depth_only(value: Any, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise Refusal("the body nests too deeply")
    children = value.values() if isinstance(value, dict) else value
    for child in children if isinstance(value, dict | list) else ():
        _depth_only(child, depth + 1)


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {key: _without_nul(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    return value
