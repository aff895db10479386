"""What Slack sends to a Request URL: signed commands, events and interactions.

Bodies are shaped like the ones Slack sends (form-encoded commands and interactions, JSON
events) and signed with `X-Slack-Signature` v0. They go over HTTP to a served app, or through
any httpx transport (an in-process one): the same bytes, without a socket.
"""

import itertools
import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

from sandbox.fake_slack import FakeSlack


class SignedClient:
    """Sends what Slack sends to a Request URL: signed commands, events and interactions."""

    def __init__(
        self,
        request_url: str,
        signing_secret: str,
        fake: FakeSlack,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """`transport`: an httpx transport that answers in process."""
        self.request_url = request_url
        self.verifier = SignatureVerifier(signing_secret)
        self.fake = fake
        self.transport = transport
        self.http = httpx.Client(timeout=10, transport=transport)
        self._event_ids = itertools.count(1)
        self.last_request: tuple[bytes, dict[str, str]] | None = None

    def __enter__(self) -> "SignedClient":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def post(
        self, body: str, content_type: str, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        timestamp = str(int(time.time()))
        signature = self.verifier.generate_signature(timestamp=timestamp, body=body)
        assert signature is not None
        signed = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": signature,
            **(headers or {}),
        }
        self.last_request = (body.encode(), signed)
        return self.http.post(self.request_url, content=body.encode(), headers=signed)

    def replay(self) -> httpx.Response:
        """Send the last request again, byte for byte, signature and all (as an attacker who
        captured it could, within the signature window)."""
        assert self.last_request is not None
        body, headers = self.last_request
        return self.http.post(self.request_url, content=body, headers=headers)

    def command(self, command: str, text: str, user_id: str, channel_id: str) -> httpx.Response:
        """A slash command; its HTTP reply is recorded as the ephemeral its author sees."""
        form = {
            "token": "legacy-verification-token",
            "team_id": self.fake.team_id,
            "team_domain": "fake",
            "channel_id": channel_id,
            "channel_name": self.fake.channels.get(channel_id, {}).get("name", "directmessage"),
            "user_id": user_id,
            "user_name": self.fake.users[user_id]["name"],
            "command": command,
            "text": text,
            "api_app_id": "AROLECALL",
            **({"enterprise_id": self.fake.enterprise_id} if self.fake.enterprise_id else {}),
            "is_enterprise_install": str(self.fake.is_enterprise_install).lower(),
            "response_url": self.fake.response_url(user_id, channel_id),
            "trigger_id": f"{time.time():.0f}.1.{uuid.uuid4().hex}",
        }
        response = self.post(urlencode(form), "application/x-www-form-urlencoded")
        if response.status_code == 200:
            self.fake.record_reply(user_id, channel_id, response)
        return response

    def event(
        self, event: dict[str, Any], *, event_id: str | None = None, retry_num: int | None = None
    ) -> httpx.Response:
        """An Events API callback; pass the same event_id with retry_num to replay a retry."""
        envelope = {
            "token": "legacy-verification-token",
            "team_id": self.fake.team_id,
            "api_app_id": "AROLECALL",
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._event_ids):08d}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": self.fake.enterprise_id,
                    "team_id": None if self.fake.is_enterprise_install else self.fake.team_id,
                    "user_id": self.fake.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": self.fake.is_enterprise_install,
                }
            ],
            **({"enterprise_id": self.fake.enterprise_id} if self.fake.enterprise_id else {}),
        }
        headers = {}
        if retry_num:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
        return self.post(json.dumps(envelope), "application/json", headers)

    def say(
        self, channel_id: str, user_id: str, text: str, thread_ts: str | None = None
    ) -> tuple[dict[str, Any], httpx.Response]:
        """A person posts a message: Slack stores it and sends the `message` event."""
        message = self.fake.user_message(channel_id, user_id, text, thread_ts)
        event = {
            "type": "message",
            "text": text,
            "user": user_id,
            "ts": message["ts"],
            "team": self.fake.team_id,
            "channel": channel_id,
            "event_ts": message["ts"],
            "channel_type": "channel",
        }
        if thread_ts:
            event["thread_ts"] = thread_ts
        return message, self.event(event)

    def mention(
        self, channel_id: str, user_id: str, text: str
    ) -> tuple[dict[str, Any], list[httpx.Response]]:
        """A message mentioning the bot: Slack sends both `message` and `app_mention`."""
        message, first = self.say(channel_id, user_id, text)
        event = {
            "type": "app_mention",
            "text": text,
            "user": user_id,
            "ts": message["ts"],
            "channel": channel_id,
            "event_ts": message["ts"],
        }
        return message, [first, self.event(event)]

    def react(
        self, channel_id: str, user_id: str, ts: str, emoji: str, **kwargs: Any
    ) -> httpx.Response:
        message = self.fake.find(channel_id, ts)
        event = {
            "type": "reaction_added",
            "user": user_id,
            "reaction": emoji,
            "item_user": message["user"] if message else None,
            "item": {"type": "message", "channel": channel_id, "ts": ts},
            "event_ts": f"{time.time():.6f}",
        }
        return self.event(event, **kwargs)

    def click(
        self,
        user_id: str,
        channel_id: str,
        message_ts: str,
        action_id: str,
        value: str,
        *,
        block_id: str | None = None,
        ephemeral: bool = False,
    ) -> httpx.Response:
        """A block_actions interaction: someone pressed a button on a message (`block_id`
        defaults to the block the button is in). On an `ephemeral` message Slack sends no
        `message`, only a container saying so."""
        message = self.fake.find(channel_id, message_ts) or {}
        block_id = block_id or next(
            (
                block.get("block_id", "")
                for block in message.get("blocks", [])
                if block["type"] == "actions"
                and any(
                    e.get("action_id") == action_id and e.get("value") == value
                    for e in block["elements"]
                )
            ),
            "item_actions",
        )
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": {
                "id": user_id,
                "name": self.fake.users[user_id]["name"],
                "team_id": self.fake.team_id,
            },
            "api_app_id": "AROLECALL",
            "token": "legacy-verification-token",
            "team": {"id": self.fake.team_id, "domain": "fake"},
            "enterprise": {"id": self.fake.enterprise_id} if self.fake.enterprise_id else None,
            "is_enterprise_install": self.fake.is_enterprise_install,
            "container": {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel_id,
                "is_ephemeral": ephemeral,
            },
            "trigger_id": f"{time.time():.0f}.1.{uuid.uuid4().hex}",
            "channel": {"id": channel_id, "name": self.fake.channels[channel_id]["name"]},
            "message": {
                "type": "message",
                "ts": message_ts,
                "text": message.get("text", ""),
                "blocks": message.get("blocks", []),
            },
            "state": {"values": {}},
            "response_url": self.fake.response_url(user_id, channel_id),
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": block_id,
                    "value": value,
                    "type": "button",
                    "action_ts": f"{time.time():.6f}",
                    "text": {"type": "plain_text", "text": action_id},
                }
            ],
        }
        if ephemeral:
            del payload["message"]
        body = urlencode({"payload": json.dumps(payload)})
        return self.post(body, "application/x-www-form-urlencoded")
