"""A stand-in for Slack's Web API on loopback, over a fake workspace's state.

One implementation serves the tests, `rolecall demo` and the benchmarks. It checks Block Kit
limits the way Slack does (`invalid_blocks`, `msg_too_long`, `invalid_arguments` for views),
can answer 429 with `Retry-After`, stall, fail, or post a message and lose its response, and
records every call. It also hosts the upload URLs files.getUploadURLExternal hands out.
"""

import base64
import json
import threading
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlparse

from sandbox.web_api import WebApi
from sandbox.workspace import Call, SlackError


class _Server(ThreadingHTTPServer):
    """Slack takes bursts of connections: a listen backlog of 5 (the default) would reset some
    of a benchmark's concurrent calls, which real Slack does not do."""

    request_queue_size = 128


class FakeSlack(WebApi):
    """A workspace served as Slack's Web API on loopback, with failures to order. Use as a
    context manager or start()/stop().

    More workspaces can be served beside it (`add_workspace`): each call reaches the workspace
    whose bot token it carries, and `oauth.v2.access` installs one (`install_code`). Failures
    ordered on this object apply to calls to any of them.
    """

    CLIENT_ID, CLIENT_SECRET = "1000.2000", "fake-client-secret"

    def __init__(
        self,
        bot_user_id: str = "UROLECALL",
        team_id: str = "T0001",
        *,
        channel_post_interval: float | None = None,
        host: "FakeSlack | None" = None,
    ) -> None:
        super().__init__(bot_user_id, team_id, channel_post_interval)
        self._queued_errors: dict[str, list[tuple[int, str, int | None] | None]] = {}
        self._lost: list[tuple[str, Callable[[dict[str, Any]], bool]]] = []
        self._gates: dict[str, threading.Event] = {}
        self._server: ThreadingHTTPServer | None = None
        self._host = host
        self.token = f"xoxb-{team_id}-fake"
        self._workspaces: dict[str, FakeSlack] = {}  # by bot token
        self._codes: dict[str, FakeSlack] = {}  # OAuth codes not yet exchanged

    def add_workspace(
        self,
        team_id: str,
        *,
        enterprise_id: str | None = None,
        is_enterprise_install: bool = False,
    ) -> "FakeSlack":
        """Another workspace (or, with `is_enterprise_install`, an Enterprise Grid
        organization installed org-wide) served by this fake, with a bot token of its own."""
        workspace = FakeSlack(self.bot_user_id, team_id, host=self)
        workspace.enterprise_id = enterprise_id
        workspace.is_enterprise_install = is_enterprise_install
        workspace._changed = self._changed
        workspace.monotonic = lambda: self.monotonic()  # one clock, however a test moves it
        self._workspaces[workspace.token] = workspace
        return workspace

    def install_code(self, workspace: "FakeSlack") -> str:
        """The code Slack's redirect carries after someone approves an install: exchanged once
        by `oauth.v2.access` for the workspace's bot token."""
        code = uuid.uuid4().hex
        self._codes[code] = workspace
        return code

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
        if self._host is not None:
            return self._host.url
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
        return f"{self.url}/respond/{self.team_id}/{channel_id}/{user_id}/{uuid.uuid4().hex}"

    def upload_url(self, file_id: str) -> str:
        return f"{self.url}/upload/{self.team_id}/{file_id}"

    def _by_team(self, team_id: str) -> "FakeSlack":
        return next(w for w in [self, *self._workspaces.values()] if w.team_id == team_id)

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        url = urlparse(request.path)
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        if url.path.startswith("/upload/"):  # a file's raw bytes, whatever the Content-Type
            _, _, team_id, file_id = url.path.split("/")
            status, text = self._by_team(team_id).receive_upload(file_id, raw)
            _send(request, status, text.encode(), "text/plain; charset=utf-8")
            return
        params: dict[str, Any] = dict(parse_qsl(url.query))
        if raw:
            if "json" in (request.headers.get("Content-Type") or ""):
                params.update(json.loads(raw))
            else:
                params.update(parse_qsl(raw.decode()))
        for key in ("blocks", "view", "attachments", "metadata", "files"):
            if isinstance(params.get(key), str):
                params[key] = json.loads(params[key])
        headers: dict[str, str] = {}
        if url.path.startswith("/respond/"):
            _, _, team_id, channel_id, user_id, _ = url.path.split("/")
            status, body = self._by_team(team_id)._respond(channel_id, user_id, params)
        elif url.path.startswith("/api/"):
            method = url.path.removeprefix("/api/")
            status, body, retry_after = self._api(method, params, request.headers)
            if retry_after is not None:
                headers["Retry-After"] = str(retry_after)
        else:
            status, body = 404, {"ok": False, "error": "not_found"}
        _send(
            request, status, json.dumps(body).encode(), "application/json; charset=utf-8", headers
        )

    def _api(
        self, method: str, params: dict[str, Any], headers: Any
    ) -> tuple[int, dict[str, Any], int | None]:
        gate = self._gates.get(method)
        if gate is not None:
            gate.wait(timeout=30)
        authorization = headers.get("Authorization") or ""
        if method == "oauth.v2.access":
            return self._oauth_v2_access(params, authorization)
        target = self._workspaces.get(authorization.removeprefix("Bearer "), self)
        with self._changed:
            call = Call(method, params)
            target.calls.append(call)
            queued = self._queued_errors.get(method)
            lost = next((x for x in self._lost if x[0] == method and x[1](params)), None)
            if lost is not None:  # the call takes effect; only its response is an error
                self._lost.remove(lost)
                getattr(target, "_" + method.replace(".", "_"))(params)
                failure: tuple[int, str, int | None] | None = (500, "internal_error", None)
            else:
                failure = queued.pop(0) if queued else None
            if failure is not None:
                status, error, retry_after = failure
                call.status, call.error = status, error
                self._changed.notify_all()
                return status, {"ok": False, "error": error}, retry_after
            if not authorization.startswith("Bearer xox"):
                call.error = "not_authed"
                return 200, {"ok": False, "error": "not_authed"}, None
            handler = getattr(target, "_" + method.replace(".", "_"), None)
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
                if error.code in {"invalid_blocks", "msg_too_long", "invalid_arguments"}:
                    target.rejected.append(call)
                body = {"ok": False, "error": error.code, "errors": error.details}
                if error.details:
                    body["response_metadata"] = {
                        "messages": [f"[ERROR] {d}" for d in error.details]
                    }
            else:
                body = {"ok": True, **body}
            self._changed.notify_all()
            return 200, body, None

    def _oauth_v2_access(
        self, params: dict[str, Any], authorization: str
    ) -> tuple[int, dict[str, Any], int | None]:
        """Exchange an install's code for its bot token, as Slack does: the app authenticates
        with its client id and secret (HTTP Basic, or in the form), and a code works once."""
        credentials = (params.get("client_id"), params.get("client_secret"))
        if authorization.startswith("Basic "):
            decoded = base64.b64decode(authorization.removeprefix("Basic ")).decode()
            credentials = tuple(decoded.split(":", 1))  # type: ignore[assignment]
        with self._changed:
            self.calls.append(Call("oauth.v2.access", {"code": params.get("code")}))
            if credentials != (self.CLIENT_ID, self.CLIENT_SECRET):
                return 200, {"ok": False, "error": "invalid_client_id"}, None
            workspace = self._codes.pop(str(params.get("code")), None)
            if workspace is None:
                return 200, {"ok": False, "error": "invalid_code"}, None
        enterprise = {"id": workspace.enterprise_id} if workspace.enterprise_id else None
        return (
            200,
            {
                "ok": True,
                "app_id": "A0ROLECALL",
                "authed_user": {"id": "UINSTALLER"},
                "scope": "chat:write,commands",
                "token_type": "bot",
                "access_token": workspace.token,
                "bot_user_id": workspace.bot_user_id,
                "team": None
                if workspace.is_enterprise_install
                else {"id": workspace.team_id, "name": workspace.team_id},
                "enterprise": enterprise,
                "is_enterprise_install": workspace.is_enterprise_install,
            },
            None,
        )

    def _respond(self, channel_id: str, user_id: str, params: dict[str, Any]) -> tuple[int, Any]:
        call = Call("response_url", params)
        error = self._show_reply(call, user_id, channel_id, params)
        if error:
            return 400, {"ok": False, "error": error}
        return 200, {"ok": True}


def _send(
    request: BaseHTTPRequestHandler,
    status: int,
    payload: bytes,
    content_type: str,
    headers: dict[str, str] | None = None,
) -> None:
    request.send_response(status)
    request.send_header("Content-Type", content_type)
    request.send_header("Content-Length", str(len(payload)))
    for name, value in (headers or {}).items():
        request.send_header(name, value)
    request.end_headers()
    request.wfile.write(payload)
