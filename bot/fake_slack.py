"""A stand-in for Slack on loopback: a stateful fake Web API plus a client that signs requests.

One implementation serves the tests, `rolecall demo` and the benchmarks. The server keeps users,
channels and messages, checks Block Kit limits the way Slack does (`invalid_blocks`,
`msg_too_long`), can answer 429 with `Retry-After`, and records every call and everything each
person would see. The client sends commands, events and interactions exactly as Slack does:
form-encoded or JSON bodies, signed with `X-Slack-Signature` v0.
"""

import itertools
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlparse

import httpx
from slack_sdk.signature import SignatureVerifier

BROADCAST = re.compile(r"<!(channel|here|everyone|subteam\^)[^>]*>")
# What Slack's mrkdwn understands between angle brackets; anything else renders as garbage.
TOKEN = re.compile(r"<([^<>]*)>")
KNOWN_TOKEN = re.compile(r"[@#][UWCG][A-Z0-9]+(\|.*)?|!.+|(https?|mailto):[^|\s]+(\|.*)?")
MESSAGE_BLOCK_LIMIT = 50
VIEW_BLOCK_LIMIT = 100
TEXT_LIMIT = 40_000


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


def block_kit_errors(blocks: list[dict[str, Any]], max_blocks: int) -> list[str]:
    """Everything Slack would reject in these blocks (limits from Slack's Block Kit docs)."""
    errors: list[str] = []
    if len(blocks) > max_blocks:
        errors.append(f"{len(blocks)} blocks > {max_blocks}")
    block_ids: set[str] = set()
    for index, block in enumerate(blocks):
        where = f"blocks[{index}]"
        block_id = block.get("block_id")
        if block_id is not None:
            if len(block_id) > 255:
                errors.append(f"{where}.block_id too long")
            if block_id in block_ids:
                errors.append(f"{where}.block_id {block_id!r} repeated")
            block_ids.add(block_id)
        kind = block.get("type")
        if kind == "section":
            text = block.get("text", {}).get("text", "")
            fields = block.get("fields", [])
            if not text and not fields:
                errors.append(f"{where} section without text")
            if len(text) > 3000:
                errors.append(f"{where}.text {len(text)} > 3000")
            if len(fields) > 10 or any(len(f.get("text", "")) > 2000 for f in fields):
                errors.append(f"{where}.fields over limits")
        elif kind == "header":
            text = block.get("text", {})
            if text.get("type") != "plain_text" or len(text.get("text", "")) > 150:
                errors.append(f"{where} header must be plain_text <= 150")
        elif kind == "context":
            elements = block.get("elements", [])
            if not 1 <= len(elements) <= 10:
                errors.append(f"{where} context needs 1..10 elements")
        elif kind == "actions":
            elements = block.get("elements", [])
            if not 1 <= len(elements) <= 25:
                errors.append(f"{where} actions needs 1..25 elements")
            action_ids: set[str] = set()
            for element in elements:
                action_id = element.get("action_id", "")
                if len(action_id) > 255 or action_id in action_ids:
                    errors.append(f"{where} action_id {action_id!r} invalid or repeated")
                action_ids.add(action_id)
                if element.get("type") == "button":
                    if len(element.get("text", {}).get("text", "")) > 75:
                        errors.append(f"{where} button text > 75")
                    if len(element.get("value", "")) > 2000:
                        errors.append(f"{where} button value > 2000")
        elif kind not in {"divider", "image", "rich_text", "input", "file"}:
            errors.append(f"{where} unknown block type {kind!r}")
    return errors


class _Server(ThreadingHTTPServer):
    """Slack takes bursts of connections: a listen backlog of 5 (the default) would reset some
    of a benchmark's concurrent calls, which real Slack does not do."""

    request_queue_size = 128


class FakeSlack:
    """The fake Web API server and its state. Use as a context manager or start()/stop()."""

    def __init__(
        self,
        bot_user_id: str = "UROLECALL",
        team_id: str = "T0001",
        *,
        channel_post_interval: float | None = None,
    ) -> None:
        """`channel_post_interval` simulates Slack's per-channel posting limit (about one
        message per second): a faster chat.postMessage to one channel gets a 429."""
        self.bot_user_id = bot_user_id
        self.channel_post_interval = channel_post_interval
        self.limit_violations: list[str] = []
        self._last_post: dict[str, float] = {}
        self.team_id = team_id
        self.users: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.home_views: dict[str, dict[str, Any]] = {}
        self.calls: list[Call] = []
        self.seen: list[Seen] = []
        self.rejected: list[Call] = []
        self.broadcasts: list[str] = []
        self.malformed: list[str] = []
        self._queued_errors: dict[str, list[tuple[int, str, int | None] | None]] = {}
        self._lost: list[tuple[str, Callable[[dict[str, Any]], bool]]] = []
        self._gates: dict[str, threading.Event] = {}
        self._ts = itertools.count(1)
        self._changed = threading.Condition()
        self._server: ThreadingHTTPServer | None = None
        self.add_user(bot_user_id, "rolecall", is_bot=True)

    # Lifecycle ---------------------------------------------------------------------------

    def start(self) -> "FakeSlack":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                fake._handle(self)

            def do_POST(self) -> None:
                fake._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the fake records calls instead of printing them."""

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> "FakeSlack":
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

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

    def fail_next(
        self, method: str, error: str, *, status: int = 200, times: int = 1, after: int = 0
    ) -> None:
        """Make the next call(s) to `method` fail with Slack's `error` code (after letting
        `after` calls through)."""
        queued = self._queued_errors.setdefault(method, [])
        queued.extend([None] * after + [(status, error, None)] * times)

    def lose_response(
        self, method: str, when: Callable[[dict[str, Any]], bool] = lambda _: True
    ) -> None:
        """The next call to `method` whose parameters match `when` takes effect, but its
        caller gets a 500: Slack posted the message and the response was lost."""
        self._lost.append((method, when))

    def rate_limit_next(self, method: str, *, retry_after: int = 1, times: int = 1) -> None:
        """Answer the next call(s) to `method` with HTTP 429 and `Retry-After`."""
        queued = [(429, "ratelimited", retry_after)] * times
        self._queued_errors.setdefault(method, []).extend(queued)

    def hold(self, method: str) -> threading.Event:
        """Stall calls to `method` until the returned event is set: a slow Slack, no sleeping."""
        gate = self._gates[method] = threading.Event()
        return gate

    def response_url(self, user_id: str, channel_id: str) -> str:
        """A response_url for a command or an action, tied to the person who will see it."""
        return f"{self.url}/respond/{channel_id}/{user_id}/{uuid.uuid4().hex}"

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

    # HTTP --------------------------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        url = urlparse(request.path)
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        params: dict[str, Any] = dict(parse_qsl(url.query))
        if raw:
            if "json" in (request.headers.get("Content-Type") or ""):
                params.update(json.loads(raw))
            else:
                params.update(parse_qsl(raw.decode()))
        for key in ("blocks", "view", "attachments", "metadata"):
            if isinstance(params.get(key), str):
                params[key] = json.loads(params[key])
        headers: dict[str, str] = {}
        if url.path.startswith("/respond/"):
            _, _, channel_id, user_id, _ = url.path.split("/")
            status, body = self._respond(channel_id, user_id, params)
        elif url.path.startswith("/api/"):
            method = url.path.removeprefix("/api/")
            status, body, retry_after = self._api(method, params, request.headers)
            if retry_after is not None:
                headers["Retry-After"] = str(retry_after)
        else:
            status, body = 404, {"ok": False, "error": "not_found"}
        payload = json.dumps(body).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json; charset=utf-8")
        request.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(payload)

    def _api(
        self, method: str, params: dict[str, Any], headers: Any
    ) -> tuple[int, dict[str, Any], int | None]:
        gate = self._gates.get(method)
        if gate is not None:
            gate.wait(timeout=30)
        with self._changed:
            call = Call(method, params)
            self.calls.append(call)
            queued = self._queued_errors.get(method)
            lost = next((x for x in self._lost if x[0] == method and x[1](params)), None)
            if lost is not None:  # the call takes effect; only its response is an error
                self._lost.remove(lost)
                getattr(self, "_" + method.replace(".", "_"))(params)
                failure: tuple[int, str, int | None] | None = (500, "internal_error", None)
            else:
                failure = queued.pop(0) if queued else None
            if failure is not None:
                status, error, retry_after = failure
                call.status, call.error = status, error
                self._changed.notify_all()
                return status, {"ok": False, "error": error}, retry_after
            if not (headers.get("Authorization") or "").startswith("Bearer xox"):
                call.error = "not_authed"
                return 200, {"ok": False, "error": "not_authed"}, None
            handler = getattr(self, "_" + method.replace(".", "_"), None)
            if handler is None:
                call.error = "unknown_method"
                return 404, {"ok": False, "error": "unknown_method"}, None
            try:
                body: dict[str, Any] = handler(params)
            except SlackError as error:
                call.error = error.code
                if error.code == "ratelimited":
                    call.status = 429
                    self._changed.notify_all()
                    return 429, {"ok": False, "error": "ratelimited"}, 1
                if error.code in {"invalid_blocks", "msg_too_long"}:
                    self.rejected.append(call)
                body = {"ok": False, "error": error.code, "errors": error.details}
            else:
                body = {"ok": True, **body}
            self._changed.notify_all()
            return 200, body, None

    def _respond(self, channel_id: str, user_id: str, params: dict[str, Any]) -> tuple[int, Any]:
        call = Call("response_url", params)
        error = self._show_reply(call, user_id, channel_id, params)
        if error:
            return 400, {"ok": False, "error": error}
        return 200, {"ok": True}

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

    # Web API methods ---------------------------------------------------------------------

    def _auth_test(self, _: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": "https://fake.slack.test/",
            "team": "Fake",
            "user": "rolecall",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": "BROLECALL",
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
        message = self._find(channel_id, params.get("ts", ""))
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
        if self._find(channel_id, ts) is None:
            raise SlackError("message_not_found")
        link = f"https://fake.slack.test/archives/{channel_id}/p{ts.replace('.', '')}"
        return {"channel": channel_id, "permalink": link}

    def _conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        channel_id = self._resolve_channel(params.get("channel", ""))
        self._require_member(channel_id)
        latest = float(params.get("latest") or "inf")
        inclusive = str(params.get("inclusive", "")).lower() in {"1", "true"}
        limit = int(params.get("limit") or 100)
        top_level = [
            m
            for m in self.messages[channel_id]
            if m.get("thread_ts") in (None, m["ts"])
            and (float(m["ts"]) < latest or (inclusive and float(m["ts"]) == latest))
        ]
        newest_first = [_listed(m, params) for m in reversed(top_level)]
        return {"messages": newest_first[:limit], "has_more": len(newest_first) > limit}

    def _conversations_replies(self, params: dict[str, Any]) -> dict[str, Any]:
        channel_id = self._resolve_channel(params.get("channel", ""))
        self._require_member(channel_id)
        message = self._find(channel_id, params.get("ts", ""))
        if message is None:
            raise SlackError("thread_not_found")
        root = message.get("thread_ts") or message["ts"]
        # Like Slack: the parent first, on every page, then the replies in the time range,
        # earliest first; `limit` counts the parent.
        oldest, latest = float(params.get("oldest") or 0), float(params.get("latest") or "inf")
        inclusive = str(params.get("inclusive", "")).lower() in {"1", "true"}
        limit = int(params.get("limit") or 1000)
        parent = self._find(channel_id, root)
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
        thread = [_listed(m, params) for m in [parent, *replies]]
        return {"messages": thread[:limit], "has_more": len(thread) > limit}

    def _views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        view = params.get("view") or {}
        errors = block_kit_errors(view.get("blocks", []), VIEW_BLOCK_LIMIT)
        if errors:
            raise SlackError("invalid_blocks", errors)
        self.home_views[params.get("user_id", "")] = view
        return {"view": {"id": "V" + uuid.uuid4().hex[:10].upper(), **view}}

    def _reactions_add(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._find(
            self._resolve_channel(params.get("channel", "")), params.get("timestamp", "")
        )
        if message is None:
            raise SlackError("message_not_found")
        return {}

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
        return f"{1_700_000_000 + next(self._ts)}.000100"

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

    def _find(self, channel_id: str, ts: str) -> dict[str, Any] | None:
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


class SlackError(Exception):
    def __init__(self, code: str, details: list[str] | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.details = details or []


def _listed(message: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """A message as conversations.history/replies list it: metadata only when asked for."""
    if str(params.get("include_all_metadata", "")).lower() in {"1", "true"}:
        return message
    return {key: value for key, value in message.items() if key != "metadata"}


def _texts(text: str, blocks: list[dict[str, Any]]) -> Iterator[str]:
    yield text
    yield json.dumps(blocks)


class SignedClient:
    """Sends what Slack sends to a Request URL: signed commands, events and interactions."""

    def __init__(self, request_url: str, signing_secret: str, fake: FakeSlack) -> None:
        self.request_url = request_url
        self.verifier = SignatureVerifier(signing_secret)
        self.fake = fake
        self.http = httpx.Client(timeout=10)
        self._event_ids = itertools.count(1)

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
        return self.http.post(self.request_url, content=body.encode(), headers=signed)

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
            "is_enterprise_install": "false",
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
                    "enterprise_id": None,
                    "team_id": self.fake.team_id,
                    "user_id": self.fake.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
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
        message = self.fake._find(channel_id, ts)
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
        self, user_id: str, channel_id: str, message_ts: str, action_id: str, value: str
    ) -> httpx.Response:
        """A block_actions interaction: someone pressed a button on a message."""
        message = self.fake._find(channel_id, message_ts) or {}
        block_id = next(
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
        payload = {
            "type": "block_actions",
            "user": {
                "id": user_id,
                "name": self.fake.users[user_id]["name"],
                "team_id": self.fake.team_id,
            },
            "api_app_id": "AROLECALL",
            "token": "legacy-verification-token",
            "team": {"id": self.fake.team_id, "domain": "fake"},
            "container": {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel_id,
                "is_ephemeral": False,
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
        body = urlencode({"payload": json.dumps(payload)})
        return self.post(body, "application/x-www-form-urlencoded")
