"""A stand-in for Slack's Web API on loopback, over a fake workspace's state.

One implementation serves the tests, `rolecall demo` and the benchmarks. It checks Block Kit
limits the way Slack does (`invalid_blocks`, `msg_too_long`), can answer 429 with
`Retry-After`, stall, fail, or post a message and lose its response, and records every call.
"""

import json
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlparse

from sandbox.block_kit import VIEW_BLOCK_LIMIT, block_kit_errors
from sandbox.workspace import Call, SlackError, Workspace, listed


class _Server(ThreadingHTTPServer):
    """Slack takes bursts of connections: a listen backlog of 5 (the default) would reset some
    of a benchmark's concurrent calls, which real Slack does not do."""

    request_queue_size = 128


class FakeSlack(Workspace):
    """A workspace served as Slack's Web API. Use as a context manager or start()/stop()."""

    def __init__(
        self,
        bot_user_id: str = "UROLECALL",
        team_id: str = "T0001",
        *,
        channel_post_interval: float | None = None,
    ) -> None:
        """`channel_post_interval` simulates Slack's per-channel posting limit (about one
        message per second): a faster chat.postMessage to one channel gets a 429."""
        super().__init__(bot_user_id, team_id)
        self.channel_post_interval = channel_post_interval
        self.limit_violations: list[str] = []
        self._last_post: dict[str, float] = {}
        self._queued_errors: dict[str, list[tuple[int, str, int | None] | None]] = {}
        self._lost: list[tuple[str, Callable[[dict[str, Any]], bool]]] = []
        self._gates: dict[str, threading.Event] = {}
        self._server: ThreadingHTTPServer | None = None

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
        latest = float(params.get("latest") or "inf")
        inclusive = str(params.get("inclusive", "")).lower() in {"1", "true"}
        limit = int(params.get("limit") or 100)
        top_level = [
            m
            for m in self.messages[channel_id]
            if m.get("thread_ts") in (None, m["ts"])
            and (float(m["ts"]) < latest or (inclusive and float(m["ts"]) == latest))
        ]
        newest_first = [listed(m, params) for m in reversed(top_level)]
        return {"messages": newest_first[:limit], "has_more": len(newest_first) > limit}

    def _conversations_replies(self, params: dict[str, Any]) -> dict[str, Any]:
        channel_id = self._resolve_channel(params.get("channel", ""))
        self._require_member(channel_id)
        message = self.find(channel_id, params.get("ts", ""))
        if message is None:
            raise SlackError("thread_not_found")
        root = message.get("thread_ts") or message["ts"]
        # Like Slack: the parent first, on every page, then the replies in the time range,
        # earliest first; `limit` counts the parent.
        oldest, latest = float(params.get("oldest") or 0), float(params.get("latest") or "inf")
        inclusive = str(params.get("inclusive", "")).lower() in {"1", "true"}
        limit = int(params.get("limit") or 1000)
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
        thread = [listed(m, params) for m in [parent, *replies]]
        return {"messages": thread[:limit], "has_more": len(thread) > limit}

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
