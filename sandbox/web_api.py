"""Slack's Web API methods over a fake workspace: what each returns, and the errors Slack
answers (unknown channels, a bot outside the channel, payloads over Block Kit limits)."""

import time
import uuid
from typing import Any

from sandbox.block_kit import VIEW_BLOCK_LIMIT, block_kit_errors
from sandbox.workspace import SlackError, Workspace, page


class WebApi(Workspace):
    """`_<method>` answers `<method>` (dots as underscores) with the body of an ok response."""

    def __init__(self, bot_user_id: str, team_id: str, channel_post_interval: float | None) -> None:
        """`channel_post_interval` simulates Slack's per-channel posting limit (about one
        message per second): a faster chat.postMessage to one channel gets a 429."""
        super().__init__(bot_user_id, team_id)
        self.channel_post_interval = channel_post_interval
        self.enterprise_id: str | None = None  # the organization, in Enterprise Grid
        self.is_enterprise_install = False  # installed org-wide, for every workspace in it
        self.limit_violations: list[str] = []
        self._last_post: dict[str, float] = {}

    def _auth_test(self, _: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": "https://fake.slack.test/",
            "team": "Fake",
            "user": "rolecall",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": "BROLECALL",
            "enterprise_id": self.enterprise_id,
            "is_enterprise_install": self.is_enterprise_install,
        }

    def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(params.get("user", ""))
        if user is None:
            raise SlackError("user_not_found")
        return {"user": user}

    def _conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        user_id = str(params.get("users", "")).split(",")[0]
        if user_id not in self.users:
            raise SlackError("user_not_found")
        return {"channel": {"id": self.dm_channel(user_id)}}

    def _chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        channel_id = self._resolve_channel(params.get("channel", ""))
        text, blocks = params.get("text", ""), params.get("blocks") or []
        self._check_message(text, blocks)
        if self.channel_post_interval is not None:
            now = time.monotonic()
            last = self._last_post.get(channel_id)
            if last is not None and now - last < self.channel_post_interval:
                self.limit_violations.append(channel_id)
                raise SlackError("ratelimited")
            self._last_post[channel_id] = now
        message = self._store_message(
            channel_id, self.bot_user_id, text, blocks, params.get("thread_ts")
        )
        if params.get("metadata"):
            message["metadata"] = params["metadata"]
        self._see_channel(channel_id, "message", text, blocks)
        return {"channel": channel_id, "ts": message["ts"], "message": message}

    def _chat_postEphemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        channel_id = self._resolve_channel(params.get("channel", ""))
        user_id = params.get("user", "")
        if user_id not in self.channels[channel_id]["members"]:
            raise SlackError("user_not_in_channel")
        text, blocks = params.get("text", ""), params.get("blocks") or []
        self._check_message(text, blocks)
        self._see_ephemeral(user_id, channel_id, text, blocks)
        return {"message_ts": self._next_ts()}

    def _chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        channel_id = self._resolve_channel(params.get("channel", ""))
        message = self.find(channel_id, params.get("ts", ""))
        if message is None:
            raise SlackError("message_not_found")
        if message["user"] != self.bot_user_id:
            raise SlackError("cant_update_message")
        text, blocks = params.get("text", ""), params.get("blocks") or []
        self._check_message(text, blocks)
        message.update(text=text, blocks=blocks, edited=True)
        self._see_channel(channel_id, "update", text, blocks)
        return {"channel": channel_id, "ts": message["ts"], "text": text}

    def _chat_getPermalink(self, params: dict[str, Any]) -> dict[str, Any]:
        channel_id = self._resolve_channel(params.get("channel", ""))
        ts = params.get("message_ts", "")
        if self.find(channel_id, ts) is None:
            raise SlackError("message_not_found")
        link = f"https://fake.slack.test/archives/{channel_id}/p{ts.replace('.', '')}"
        return {"channel": channel_id, "permalink": link}

    def _conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        channel_id = self._resolve_channel(params.get("channel", ""))
        self._require_member(channel_id)
        oldest, latest = _time_range(params)
        inclusive = str(params.get("inclusive", "")).lower() in {"1", "true"}
        top_level = [
            m
            for m in self.messages[channel_id]
            if m.get("thread_ts") in (None, m["ts"])
            and (
                oldest < float(m["ts"]) < latest
                or (inclusive and float(m["ts"]) in {oldest, latest})
            )
        ]
        return page(list(reversed(top_level)), params, 100)  # newest first

    def _conversations_replies(self, params: dict[str, Any]) -> dict[str, Any]:
        channel_id = self._resolve_channel(params.get("channel", ""))
        self._require_member(channel_id)
        message = self.find(channel_id, params.get("ts", ""))
        if message is None:
            raise SlackError("thread_not_found")
        root = message.get("thread_ts") or message["ts"]
        # Like Slack: the parent first, then the replies in the time range, earliest first;
        # `limit` counts the parent.
        oldest, latest = _time_range(params)
        inclusive = str(params.get("inclusive", "")).lower() in {"1", "true"}
        parent = self.find(channel_id, root)
        assert parent is not None
        replies = [
            m
            for m in self.messages[channel_id]
            if m.get("thread_ts") == root
            and m["ts"] != root
            and (
                oldest < float(m["ts"]) < latest
                or (inclusive and float(m["ts"]) in {oldest, latest})
            )
        ]
        return page([parent, *replies], params, 1000)

    def _views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        view = params.get("view") or {}
        errors = block_kit_errors(view.get("blocks", []), VIEW_BLOCK_LIMIT)
        if errors:
            raise SlackError("invalid_blocks", errors)
        self.home_views[params.get("user_id", "")] = view
        return {"view": {"id": "V" + uuid.uuid4().hex[:10].upper(), **view}}

    def _reactions_add(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self.find(
            self._resolve_channel(params.get("channel", "")), params.get("timestamp", "")
        )
        if message is None:
            raise SlackError("message_not_found")
        return {}


def _time_range(params: dict[str, Any]) -> tuple[float, float]:
    return float(params.get("oldest") or 0), float(params.get("latest") or "inf")
