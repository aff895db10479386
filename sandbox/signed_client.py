"""What Slack sends to a Request URL: signed commands, events and interactions.

Bodies are shaped like the ones Slack sends (form-encoded commands and interactions, JSON
events) and signed with `X-Slack-Signature` v0. They go over HTTP to a served app, or through
any httpx transport (an in-process one): the same bytes, without a socket. Every trigger_id is
issued by the fake, so views.open honours it only once and within 3 seconds, as Slack does.
"""

import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

from sandbox.fake_slack import FakeSlack
from sandbox.web_api import APP_ID
from sandbox.workspace import listed


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
            "api_app_id": APP_ID,
            **({"enterprise_id": self.fake.enterprise_id} if self.fake.enterprise_id else {}),
            "is_enterprise_install": str(self.fake.is_enterprise_install).lower(),
            "response_url": self.fake.response_url(user_id, channel_id),
            "trigger_id": self.fake.issue_trigger(user_id),
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
            "api_app_id": APP_ID,
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
        self, channel_id: str, user_id: str, text: str, thread_ts: str | None = None
    ) -> tuple[dict[str, Any], list[httpx.Response]]:
        """A message mentioning the bot: Slack sends both `message` and `app_mention`."""
        message, first = self.say(channel_id, user_id, text, thread_ts)
        event = {
            "type": "app_mention",
            "text": text,
            "user": user_id,
            "ts": message["ts"],
            "channel": channel_id,
            "event_ts": message["ts"],
        }
        if thread_ts:
            event["thread_ts"] = thread_ts
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
        payload = self._interaction(
            "block_actions",
            user_id,
            container={
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel_id,
                "is_ephemeral": ephemeral,
            },
            trigger_id=self.fake.issue_trigger(user_id),
            channel=self._channel(channel_id),
            message={
                "type": "message",
                "ts": message_ts,
                "text": message.get("text", ""),
                "blocks": message.get("blocks", []),
            },
            state={"values": {}},
            response_url=self.fake.response_url(user_id, channel_id),
            actions=[_action(message.get("blocks", []), action_id, value, block_id)],
        )
        if ephemeral:
            del payload["message"]
        return self._send(payload)

    def view_click(
        self,
        user_id: str,
        view: dict[str, Any],
        action_id: str,
        value: str,
        *,
        block_id: str | None = None,
        values: dict[str, Any] | None = None,
    ) -> httpx.Response:
        """A block_actions interaction from a view: a button on someone's App Home tab or in
        an open modal (`view` as the fake stores it; `values`, the modal's inputs so far).
        Slack sends the view, and neither channel, message nor response_url."""
        payload = self._interaction(
            "block_actions",
            user_id,
            container={"type": "view", "view_id": view["id"]},
            trigger_id=self.fake.issue_trigger(user_id),
            view={**view, "state": {"values": values or {}}},
            state={"values": values or {}},
            actions=[_action(view.get("blocks", []), action_id, value, block_id)],
        )
        return self._send(payload)

    def message_shortcut(
        self, callback_id: str, user_id: str, channel_id: str, message: dict[str, Any]
    ) -> httpx.Response:
        """A message shortcut ("More actions" on a message), `message` as the fake stores it."""
        payload = self._interaction(
            "message_action",
            user_id,
            callback_id=callback_id,
            trigger_id=self.fake.issue_trigger(user_id),
            action_ts=f"{time.time():.6f}",
            channel=self._channel(channel_id),
            message_ts=message["ts"],
            message=listed(message, {}),
            response_url=self.fake.response_url(user_id, channel_id),
        )
        return self._send(payload)

    def global_shortcut(self, callback_id: str, user_id: str) -> httpx.Response:
        """A global shortcut (from the composer or search): no channel, no response_url."""
        payload = self._interaction(
            "shortcut",
            user_id,
            callback_id=callback_id,
            trigger_id=self.fake.issue_trigger(user_id),
            action_ts=f"{time.time():.6f}",
        )
        return self._send(payload)

    def view_submission(
        self, view: dict[str, Any], user_id: str, values: dict[str, Any]
    ) -> httpx.Response:
        """Someone submits a modal (`view` as the fake stores it, `values` its inputs, see
        `state_values`); the fake applies the app's answer to the person's open modals."""
        payload = self._interaction(
            "view_submission",
            user_id,
            trigger_id=self.fake.issue_trigger(user_id),
            view={**view, "state": {"values": values}},
            response_urls=[],
        )
        response = self._send(payload)
        self.fake.view_submitted(user_id, view["id"], response)
        return response

    def block_suggestion(
        self, action_id: str, block_id: str, value: str, user_id: str, view: dict[str, Any]
    ) -> httpx.Response:
        """An external_select in a modal asks for options matching what was typed; the app
        answers with them in the HTTP response (`{"options": [...]}`)."""
        payload = self._interaction(
            "block_suggestion",
            user_id,
            container={"type": "view", "view_id": view["id"]},
            action_id=action_id,
            block_id=block_id,
            value=value,
            view=view,
        )
        return self._send(payload)

    def _interaction(self, kind: str, user_id: str, **fields: Any) -> dict[str, Any]:
        """What every interaction payload carries: who, in which workspace, for which app."""
        return {
            "type": kind,
            "user": {
                "id": user_id,
                "username": self.fake.users[user_id]["name"],
                "name": self.fake.users[user_id]["name"],
                "team_id": self.fake.team_id,
            },
            "api_app_id": APP_ID,
            "token": "legacy-verification-token",
            "team": {"id": self.fake.team_id, "domain": "fake"},
            "enterprise": {"id": self.fake.enterprise_id} if self.fake.enterprise_id else None,
            "is_enterprise_install": self.fake.is_enterprise_install,
            **fields,
        }

    def _channel(self, channel_id: str) -> dict[str, str]:
        channel = self.fake.channels[channel_id]
        return {
            "id": channel_id,
            "name": "directmessage" if channel.get("is_im") else channel["name"],
        }

    def _send(self, payload: dict[str, Any]) -> httpx.Response:
        body = urlencode({"payload": json.dumps(payload)})
        return self.post(body, "application/x-www-form-urlencoded")


def state_values(view: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    """A view's `state.values` as Slack submits it, from answers by action_id: a string for a
    text input, select, date, time or radio; a list for a multi-select or checkboxes. Every
    input block is there; one left blank holds None, as in Slack's payloads."""
    values: dict[str, Any] = {}
    for block in view.get("blocks", []):
        if block.get("type") != "input":
            continue
        element = block["element"]
        kind, action_id = element["type"], element["action_id"]
        answer = answers.get(action_id)
        values.setdefault(block["block_id"], {})[action_id] = {
            "type": kind,
            **_selection(element, answer),
        }
    return values


# Where Slack puts a submitted answer, by element type (a text input's is `value`).
_ONE = {
    "datepicker": "selected_date",
    "timepicker": "selected_time",
    "users_select": "selected_user",
    "conversations_select": "selected_conversation",
    "channels_select": "selected_channel",
}
_MANY = {
    "multi_users_select": "selected_users",
    "multi_conversations_select": "selected_conversations",
    "multi_channels_select": "selected_channels",
}


def _selection(element: dict[str, Any], answer: Any) -> dict[str, Any]:
    kind = element["type"]
    if kind in {"static_select", "external_select", "radio_buttons"}:
        return {"selected_option": None if answer is None else _option(element, answer)}
    if kind in {"multi_static_select", "multi_external_select", "checkboxes"}:
        return {"selected_options": [_option(element, a) for a in answer or []]}
    if kind in _MANY:
        return {_MANY[kind]: list(answer or [])}
    return {_ONE.get(kind, "value"): answer}


def _option(element: dict[str, Any], value: str) -> dict[str, Any]:
    """The option Slack submits: the element's own (text and all), else one made from it."""
    return next(
        (o for o in element.get("options", []) if o["value"] == value),
        {"text": {"type": "plain_text", "text": value}, "value": value},
    )


def _action(
    blocks: list[dict[str, Any]], action_id: str, value: str, block_id: str | None
) -> dict[str, Any]:
    """The element acted on as Slack describes it, with the block it is in: a button pressed
    (its value), or an option picked in a select (`selected_option`, as Slack sends it)."""
    found_block, element = next(
        (
            (block.get("block_id", ""), element)
            for block in blocks
            for element in _buttons(block)
            if element.get("action_id") == action_id
            and (element.get("value") == value or element.get("type") != "button")
        ),
        ("item_actions", {"type": "button", "text": {"type": "plain_text", "text": action_id}}),
    )
    action: dict[str, Any] = {
        "action_id": action_id,
        "block_id": block_id or found_block,
        "action_ts": f"{time.time():.6f}",
        "type": element.get("type", "button"),
    }
    if action["type"] == "button":
        return {**action, "value": value, "text": element["text"]}
    return {**action, **_selection(element, value)}


def _buttons(block: dict[str, Any]) -> list[dict[str, Any]]:
    """A block's interactive elements: an actions block's, an input's (one that dispatches
    its actions), or a section's accessory."""
    if block["type"] == "actions":
        return list(block["elements"])
    if block["type"] == "input":
        return [block["element"]]
    return [block["accessory"]] if "accessory" in block else []
