"""The state of a fake Slack workspace: people, channels, messages, and what each person saw.

`FakeSlack` serves it as a Web API on loopback; tests, the demo and the benchmarks read it to
assert on what a person would see.
"""

import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from sandbox.block_kit import (
    BROADCAST,
    KNOWN_TOKEN,
    MESSAGE_BLOCK_LIMIT,
    TEXT_LIMIT,
    TOKEN,
    block_kit_errors,
)


@dataclass
class Call:
    """One Web API request as the fake received it."""

    method: str
    params: dict[str, Any]
    status: int = 200
    error: str | None = None


@dataclass
class Seen:
    """Something a person saw: a message, an ephemeral, a command reply, a card update."""

    audience: str
    where: str
    kind: str
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class File:
    """A file the app uploads: announced (name, length), then its bytes, then shared (title)."""

    id: str
    name: str
    length: int
    data: bytes | None = None
    title: str = ""


class SlackError(Exception):
    def __init__(self, code: str, details: list[str] | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.details = details or []


class Workspace:
    """Users, channels, messages, and a record of every call and of what each person saw."""

    def __init__(self, bot_user_id: str, team_id: str) -> None:
        self.bot_user_id = bot_user_id
        self.team_id = team_id
        self.users: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.views: dict[str, dict[str, Any]] = {}  # open modals and Home tabs, by view id
        self._modals: dict[str, list[str]] = {}  # each person's stack of modal view ids
        self._homes: dict[str, str] = {}  # each person's Home tab view id
        self.files: dict[str, File] = {}
        # The clock trigger_ids expire by (and the per-channel post limit): tests move it.
        self.monotonic: Callable[[], float] = time.monotonic
        self._triggers: dict[str, tuple[str, float]] = {}  # issued: user id, when
        self._exchanged: set[str] = set()
        self.calls: list[Call] = []
        self.seen: list[Seen] = []
        self.rejected: list[Call] = []
        self.broadcasts: list[str] = []
        self.malformed: list[str] = []
        self._last_ts = 0.0
        self._changed = threading.Condition()
        self.add_user(bot_user_id, "rolecall", is_bot=True)

    # Seeding and scripting ---------------------------------------------------------------

    def add_user(
        self,
        user_id: str,
        name: str,
        *,
        tz: str = "UTC",
        is_admin: bool = False,
        is_owner: bool = False,
        is_bot: bool = False,
    ) -> None:
        self.users[user_id] = {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "real_name": name,
            "tz": tz,
            "is_admin": is_admin,
            "is_owner": is_owner,
            "is_bot": is_bot,
            "deleted": False,
            "profile": {"display_name": name},
        }

    def add_channel(self, channel_id: str, name: str, members: list[str]) -> None:
        self.channels[channel_id] = {
            "id": channel_id,
            "name": name,
            "members": {*members, self.bot_user_id},
        }
        self.messages.setdefault(channel_id, [])

    def dm_channel(self, user_id: str) -> str:
        """The bot's DM with a person (Slack gives D ids; ours are derived from the user id)."""
        channel_id = "D" + user_id[1:]
        if channel_id not in self.channels:
            self.channels[channel_id] = {
                "id": channel_id,
                "name": f"dm-{user_id}",
                "members": {user_id, self.bot_user_id},
                "is_im": True,
                "user": user_id,
            }
            self.messages[channel_id] = []
        return channel_id

    def user_message(
        self, channel_id: str, user_id: str, text: str, thread_ts: str | None = None
    ) -> dict[str, Any]:
        """A person posts in a channel: stored like Slack stores it; returns the message."""
        with self._changed:
            message = self._store_message(channel_id, user_id, text, [], thread_ts)
        self._see_channel(channel_id, "message", text, [], author=user_id)
        return message

    def issue_trigger(self, user_id: str) -> str:
        """A trigger_id, as Slack sends with a command, click or shortcut by `user_id`: views.open
        or views.push exchange it once, for that person, within 3 seconds."""
        trigger_id = f"{time.time():.0f}.1.{uuid.uuid4().hex}"
        with self._changed:
            self._triggers[trigger_id] = (user_id, self.monotonic())
        return trigger_id

    # Looking at what happened ------------------------------------------------------------

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        with self._changed:
            return [c.params for c in self.calls if c.method == method and c.error is None]

    def seen_by(self, user_id: str) -> list[Seen]:
        with self._changed:
            return [s for s in self.seen if s.audience == user_id]

    def dms_to(self, user_id: str) -> list[dict[str, Any]]:
        channel = "D" + user_id[1:]
        with self._changed:
            return list(self.messages.get(channel, []))

    @property
    def home_views(self) -> dict[str, dict[str, Any]]:
        """Each person's Home tab, as last published or updated."""
        with self._changed:
            return {user_id: self.views[view_id] for user_id, view_id in self._homes.items()}

    def open_views(self, user_id: str) -> list[dict[str, Any]]:
        """The person's open modal and the views pushed on it, newest last."""
        with self._changed:
            return [self.views[view_id] for view_id in self._modals.get(user_id, [])]

    def files_in(self, channel_id: str) -> list[tuple[str, bytes, str]]:
        """The files shared in a conversation, oldest first: (filename, bytes, title)."""
        with self._changed:
            shared = [
                self.files[f["id"]]
                for m in self.messages.get(channel_id, [])
                for f in m.get("files", [])
            ]
        return [(f.name, f.data or b"", f.title) for f in shared]

    def wait_for(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:
        """Block until the app has made the calls `condition` looks for (after-ack work)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not condition():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("the fake Slack never saw what the test waited for")
                self._changed.wait(min(remaining, 0.05))

    def readable(self, text: str) -> str:
        """mrkdwn as a person reads it: names for mentions, labels for links."""

        def token(match: re.Match[str]) -> str:
            inner = match.group(1)
            if inner.startswith("@"):
                user_id = inner[1:].split("|")[0]
                return "@" + str(self.users.get(user_id, {}).get("name", user_id))
            if inner.startswith("#"):
                channel_id = inner[1:].split("|")[0]
                return "#" + str(self.channels.get(channel_id, {}).get("name", channel_id))
            target, _, label = inner.partition("|")
            if target.startswith("!"):
                return label or "@" + target[1:].split("^")[0]
            return label or target

        rendered = re.sub(r"<([^<>]*)>", token, text)
        return rendered.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")

    def render(self, text: str, blocks: list[dict[str, Any]]) -> str:
        """A message as a person sees it: block texts, buttons in brackets; else the text."""
        if not blocks:
            return self.readable(text)
        lines: list[str] = []
        for block in blocks:
            if block["type"] in {"section", "header"}:
                lines.append(block["text"]["text"])
            elif block["type"] == "context":
                lines.append(" ".join(e.get("text", "") for e in block["elements"]))
            elif block["type"] == "actions":
                lines.append(" ".join(f"[{e['text']['text']}]" for e in block["elements"]))
        return self.readable("\n".join(lines))

    def _show_reply(
        self, call: Call, user_id: str, channel_id: str, message: dict[str, Any]
    ) -> str | None:
        """Show a command or action reply to its author, or reject it as Slack would."""
        text, blocks = message.get("text", ""), message.get("blocks") or []
        with self._changed:
            self.calls.append(call)
            try:
                self._check_message(text, blocks)
            except SlackError as error:
                call.error = error.code
                self.rejected.append(call)
                return error.code
            finally:
                self._changed.notify_all()
            self._see_ephemeral(user_id, channel_id, text, blocks)
        return None

    # State helpers -----------------------------------------------------------------------

    def _resolve_channel(self, channel: str) -> str:
        if channel.startswith(("U", "W")):
            if channel not in self.users:
                raise SlackError("channel_not_found")
            return self.dm_channel(channel)
        if channel not in self.channels:
            raise SlackError("channel_not_found")
        return channel

    def _require_member(self, channel_id: str) -> None:
        if self.bot_user_id not in self.channels[channel_id]["members"]:
            raise SlackError("not_in_channel")

    def _check_message(self, text: str, blocks: list[dict[str, Any]]) -> None:
        if not text and not blocks:
            raise SlackError("no_text")
        if len(text) > TEXT_LIMIT:
            raise SlackError("msg_too_long")
        errors = block_kit_errors(blocks, MESSAGE_BLOCK_LIMIT)
        if errors:
            raise SlackError("invalid_blocks", errors)
        for piece in _texts(text, blocks):
            self.broadcasts.extend(m.group(0) for m in BROADCAST.finditer(piece))
            self.malformed.extend(
                m.group(0) for m in TOKEN.finditer(piece) if not KNOWN_TOKEN.fullmatch(m.group(1))
            )

    def _next_ts(self) -> str:
        """Like Slack's: the wall-clock time of the post, unique in the workspace."""
        self._last_ts = max(time.time(), self._last_ts + 0.000001)
        return f"{self._last_ts:.6f}"

    def _store_message(
        self,
        channel_id: str,
        user_id: str,
        text: str,
        blocks: list[dict[str, Any]],
        thread_ts: str | None,
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": "message",
            "ts": self._next_ts(),
            "user": user_id,
            "text": text,
            "blocks": blocks,
        }
        if thread_ts:
            message["thread_ts"] = thread_ts
        self.messages.setdefault(channel_id, []).append(message)
        return message

    def find(self, channel_id: str, ts: str) -> dict[str, Any] | None:
        return next((m for m in self.messages.get(channel_id, []) if m["ts"] == ts), None)

    def _see_ephemeral(
        self, user_id: str, channel_id: str, text: str, blocks: list[dict[str, Any]]
    ) -> None:
        self.seen.append(Seen(user_id, channel_id, "ephemeral", text, blocks))

    def _see_channel(
        self,
        channel_id: str,
        kind: str,
        text: str,
        blocks: list[dict[str, Any]],
        *,
        author: str | None = None,
    ) -> None:
        """Everyone in the channel (or DM) sees a message or an update."""
        label = f"@{self.users[author]['name']}: " if author else ""
        for member in sorted(self.channels[channel_id]["members"]):
            if member != self.bot_user_id:
                self.seen.append(Seen(member, channel_id, kind, label + text, blocks))

    def record_reply(self, user_id: str, channel_id: str, response: httpx.Response) -> None:
        """What a command's HTTP response showed its author (Slack renders it as ephemeral):
        a JSON message, or a plain-text body taken as the message text."""
        if not response.text:
            return
        if response.headers.get("content-type", "").startswith("application/json"):
            reply = response.json()
        else:
            reply = {"text": response.text}
        self._show_reply(Call("command_reply", reply), user_id, channel_id, reply)


def page(messages: list[dict[str, Any]], params: dict[str, Any], limit: int) -> dict[str, Any]:
    """One page of a listing, as Slack pages it: `limit` at a time, the next page's cursor in
    `response_metadata` while there is more."""
    start = int(params.get("cursor") or 0)
    end = start + int(params.get("limit") or limit)
    more = len(messages) > end
    return {
        "messages": [listed(m, params) for m in messages[start:end]],
        "has_more": more,
        "response_metadata": {"next_cursor": str(end) if more else ""},
    }


def listed(message: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """A message as conversations.history/replies list it: metadata only when asked for."""
    if str(params.get("include_all_metadata", "")).lower() in {"1", "true"}:
        return message
    return {key: value for key, value in message.items() if key != "metadata"}


def _texts(text: str, blocks: list[dict[str, Any]]) -> Iterator[str]:
    yield text
    yield json.dumps(blocks)
