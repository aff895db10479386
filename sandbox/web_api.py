"""Slack's Web API methods over a fake workspace: what each returns, and the errors Slack
answers (unknown channels, a bot outside the channel, payloads over Block Kit limits, stale
trigger_ids and view hashes)."""

import mimetypes
import time
import uuid
from abc import ABC, abstractmethod
from typing import Any

import httpx

from sandbox.block_kit import view_errors
from sandbox.workspace import Call, File, SlackError, Workspace, page

APP_ID, BOT_ID = "AROLECALL", "BROLECALL"
TRIGGER_LIFETIME = 3.0  # seconds Slack honours a trigger_id for
MODAL_STACK_LIMIT = 3  # a modal and two views pushed on it


class WebApi(Workspace, ABC):
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
            "bot_id": BOT_ID,
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

    def _conversations_members(self, params: dict[str, Any]) -> dict[str, Any]:
        """A channel's members (the bot too), `limit` at a time (Slack's default 100), the next
        page's cursor in `response_metadata` while there is more."""
        channel = self.channels.get(params.get("channel", ""))
        if channel is None:
            raise SlackError("channel_not_found")
        members = sorted(channel["members"])
        start = int(params.get("cursor") or 0)
        end = start + int(params.get("limit") or 100)
        more = len(members) > end
        return {
            "members": members[start:end],
            "response_metadata": {"next_cursor": str(end) if more else ""},
        }

    def _chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        channel_id = self._resolve_channel(params.get("channel", ""))
        text, blocks = params.get("text", ""), params.get("blocks") or []
        self._check_message(text, blocks)
        if self.channel_post_interval is not None:
            now = self.monotonic()
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
        view = _checked_view(params, "home")
        user_id = params.get("user_id", "")
        old = self.views.get(self._homes.get(user_id, ""))
        if old is not None:
            _check_hash(params, old)
        stored = self._new_view(view, old["id"] if old else None)
        self.views[stored["id"]] = stored
        self._homes[user_id] = stored["id"]
        return {"view": stored}

    def _views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        view = _checked_view(params, "modal")
        self._check_external_id(view)
        user_id = self._exchange_trigger(params.get("trigger_id", ""))
        for view_id in self._modals.pop(user_id, []):
            del self.views[view_id]
        stored = self._new_view(view)
        self.views[stored["id"]] = stored
        self._modals[user_id] = [stored["id"]]
        return {"view": stored}

    def _views_push(self, params: dict[str, Any]) -> dict[str, Any]:
        """Onto the modal the trigger's person has open (the fake answers `not_found` when
        there is none)."""
        view = _checked_view(params, "modal")
        self._check_external_id(view)
        user_id = self._exchange_trigger(params.get("trigger_id", ""))
        stack = self._modals.get(user_id)
        if not stack:
            raise SlackError("not_found", ["no modal open to push onto"])
        if len(stack) >= MODAL_STACK_LIMIT:
            raise SlackError("push_limit_reached")
        stored = self._new_view(view, root_view_id=stack[0], previous_view_id=stack[-1])
        self.views[stored["id"]] = stored
        stack.append(stored["id"])
        return {"view": stored}

    def _views_update(self, params: dict[str, Any]) -> dict[str, Any]:
        """By `view_id` or `external_id` (kept when the new view names none); a `hash` other
        than the view's current one means it changed since the caller saw it: `hash_conflict`."""
        external_id = params.get("external_id")
        old = self.views.get(params.get("view_id", "")) or next(
            (v for v in self.views.values() if external_id and v["external_id"] == external_id),
            None,
        )
        if old is None:
            raise SlackError("not_found")
        view = {"external_id": old["external_id"], **_checked_view(params, old["type"])}
        _check_hash(params, old)
        stored = self._new_view(view, old["id"], old["root_view_id"], old["previous_view_id"])
        self.views[stored["id"]] = stored
        return {"view": stored}

    def view_submitted(self, user_id: str, view_id: str, response: httpx.Response) -> None:
        """Apply the app's answer to a view_submission as Slack does: an empty 200 closes the
        view (and any pushed on it); `response_action` "errors" keeps it open, "update"
        replaces it, "push" stacks a view on it, "clear" closes them all."""
        if response.status_code != 200:
            return  # Slack shows an error in the still-open modal
        answer = response.json() if response.content else {}
        with self._changed:
            stack = self._modals.get(user_id, [])
            if view_id not in stack:
                return
            call = Call("view_submission_ack", answer)
            self.calls.append(call)
            try:
                self._answer_submission(stack, view_id, answer)
            except SlackError as error:
                call.error = error.code
                self.rejected.append(call)
            self._changed.notify_all()

    def _answer_submission(self, stack: list[str], view_id: str, answer: dict[str, Any]) -> None:
        action = answer.get("response_action")
        if action == "errors":
            return
        if action == "update":
            old = self.views[view_id]
            ids = (view_id, old["root_view_id"], old["previous_view_id"])
            self.views[view_id] = self._new_view(_checked_view(answer, "modal"), *ids)
        elif action == "push":
            view = _checked_view(answer, "modal")
            if len(stack) >= MODAL_STACK_LIMIT:
                raise SlackError("push_limit_reached")
            pushed = self._new_view(view, root_view_id=stack[0], previous_view_id=stack[-1])
            self.views[pushed["id"]] = pushed
            stack.append(pushed["id"])
        elif action in {None, "clear"}:
            keep = 0 if action == "clear" else stack.index(view_id)
            for closed in stack[keep:]:
                del self.views[closed]
            del stack[keep:]
        else:
            raise SlackError("invalid_arguments", [f"response_action {action!r}"])

    @abstractmethod
    def upload_url(self, file_id: str) -> str:
        """Where the app sends a file's bytes (served beside the Web API)."""

    def _files_getUploadURLExternal(self, params: dict[str, Any]) -> dict[str, Any]:
        filename, length = params.get("filename"), str(params.get("length", ""))
        if not filename or not length.isdigit() or int(length) < 1:
            raise SlackError("invalid_arguments", ["filename and a positive length are required"])
        file_id = "F" + uuid.uuid4().hex[:10].upper()
        self.files[file_id] = File(file_id, filename, int(length))
        return {"upload_url": self.upload_url(file_id), "file_id": file_id}

    def receive_upload(self, file_id: str, data: bytes) -> tuple[int, str]:
        """The bytes POSTed to an upload URL; Slack's file host answers in plain text. Bytes
        other than the announced length are refused (and recorded as a rejection)."""
        with self._changed:
            call = Call("upload", {"file_id": file_id, "length": len(data)})
            self.calls.append(call)
            upload = self.files.get(file_id)
            if upload is None:
                call.status, call.error = 404, "file_not_found"
            elif len(data) != upload.length:
                call.status, call.error = 400, "length_mismatch"
                self.rejected.append(call)
            else:
                upload.data = data
            self._changed.notify_all()
        if call.error:
            return call.status, call.error
        return 200, f"OK - {len(data)}"

    def _files_completeUploadExternal(self, params: dict[str, Any]) -> dict[str, Any]:
        """Share uploaded files: one message with them in each conversation named, or none
        (the files stay private)."""
        entries = params.get("files")
        if not isinstance(entries, list) or not entries:
            raise SlackError("invalid_arguments", ["files must be a list of {id, title}"])
        uploads = [self.files.get(str(entry.get("id"))) for entry in entries]
        shared = [f for f in uploads if f is not None and f.data is not None]
        if len(shared) != len(entries):
            raise SlackError("file_not_found")
        named = [params.get("channel_id"), *str(params.get("channels") or "").split(",")]
        channel_ids = [self._resolve_channel(c) for c in named if c]
        for channel_id in channel_ids:
            self._require_member(channel_id)
        comment = params.get("initial_comment") or ""
        if comment:
            self._check_message(comment, [])
        for entry, upload in zip(entries, shared, strict=True):
            upload.title = entry.get("title") or upload.name
        for channel_id in channel_ids:
            message = self._store_message(
                channel_id, self.bot_user_id, comment, [], params.get("thread_ts")
            )
            message["files"] = [self._file_object(f) for f in shared]
            seen = "\n".join([comment, *(f.title for f in shared)]).strip()
            self._see_channel(channel_id, "file", seen, [])
        return {"files": [{"id": f.id, "title": f.title} for f in shared]}

    # Views and files as Slack stores them ----------------------------------------------------

    def _new_view(
        self,
        view: dict[str, Any],
        view_id: str | None = None,
        root_view_id: str | None = None,
        previous_view_id: str | None = None,
    ) -> dict[str, Any]:
        """A view as Slack stores and returns it: ids, the app's, a fresh hash, empty state."""
        view_id = view_id or "V" + uuid.uuid4().hex[:10].upper()
        return {
            "private_metadata": "",
            "callback_id": "",
            "external_id": "",
            "clear_on_close": False,
            "notify_on_close": False,
            **view,
            "id": view_id,
            "team_id": self.team_id,
            "state": {"values": {}},
            "hash": f"{time.time():.0f}.{uuid.uuid4().hex[:8]}",
            "previous_view_id": previous_view_id,
            "root_view_id": root_view_id or view_id,
            "app_id": APP_ID,
            "app_installed_team_id": self.team_id,
            "bot_id": BOT_ID,
        }

    def _check_external_id(self, view: dict[str, Any]) -> None:
        external_id = view.get("external_id")
        if external_id and any(v["external_id"] == external_id for v in self.views.values()):
            raise SlackError("duplicate_external_id")

    def _exchange_trigger(self, trigger_id: str) -> str:
        """The person a trigger_id was issued for; it works once, within 3 seconds."""
        if trigger_id in self._exchanged:
            raise SlackError("exchanged_trigger_id")
        issued = self._triggers.pop(trigger_id, None)
        if issued is None:
            raise SlackError("invalid_trigger_id")
        self._exchanged.add(trigger_id)
        user_id, at = issued
        if self.monotonic() - at > TRIGGER_LIFETIME:
            raise SlackError("expired_trigger_id")
        return user_id

    def _file_object(self, upload: File) -> dict[str, Any]:
        return {
            "id": upload.id,
            "name": upload.name,
            "title": upload.title,
            "mimetype": mimetypes.guess_type(upload.name)[0] or "application/octet-stream",
            "size": upload.length,
            "user": self.bot_user_id,
        }

    def _reactions_add(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self.find(
            self._resolve_channel(params.get("channel", "")), params.get("timestamp", "")
        )
        if message is None:
            raise SlackError("message_not_found")
        return {}


def _checked_view(params: dict[str, Any], surface: str) -> dict[str, Any]:
    view = params.get("view")
    if not isinstance(view, dict):
        raise SlackError("invalid_arguments", ["view is required"])
    errors = view_errors(view, surface)
    if errors:
        raise SlackError("invalid_arguments", errors)
    return view


def _check_hash(params: dict[str, Any], stored: dict[str, Any]) -> None:
    if params.get("hash") and params["hash"] != stored["hash"]:
        raise SlackError("hash_conflict")


def _time_range(params: dict[str, Any]) -> tuple[float, float]:
    return float(params.get("oldest") or 0), float(params.get("latest") or "inf")
