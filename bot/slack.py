"""The Web API client every part of Rolecall shares, and how a post is found again."""

import json
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

POST_EVENT = "rolecall_post"
LOOKBACK = 200  # messages searched for an earlier attempt: Slack's recommended page size
POST_RETRIES = 2  # after a 5xx or a dropped connection, as slack-sdk's own handlers would

log = logging.getLogger(__name__)


def quiet_logger(name: str) -> logging.Logger:
    """A logger with an explicit level. slack-sdk and Bolt test `logger.level <= DEBUG` (not the
    effective level), so with an unset level they format a debug line for every API call and
    middleware step: measurable CPU on every request."""
    logger = logging.getLogger(name)
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)
    return logger


def new_tag() -> str:
    """A tag for one post attempt, unique enough to find that message again."""
    return uuid.uuid4().hex[:16]


def tagged(tag: str) -> dict[str, Any]:
    """Message metadata that lets a later run find this post in its conversation."""
    return {"event_type": POST_EVENT, "event_payload": {"tag": tag}}


def _is_tagged_post(request: HttpRequest) -> bool:
    if not request.url.endswith("/chat.postMessage") or not request.data:
        return False
    try:
        body = json.loads(request.data)
    except ValueError:
        return False  # form-encoded: not one of ours
    metadata = body.get("metadata") if isinstance(body, dict) else None
    return isinstance(metadata, dict) and metadata.get("event_type") == POST_EVENT


class _UnlessTagged:
    """A 5xx or a dropped connection may come after Slack posted the message, so a tagged post
    is not resent blindly here: `post_tagged` looks for it first."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if _is_tagged_post(request):
            return False
        return super()._can_retry(  # type: ignore[misc, no-any-return]
            state=state, request=request, response=response, error=error
        )


class _ConnectionErrors(_UnlessTagged, ConnectionErrorRetryHandler):
    pass


class _ServerErrors(_UnlessTagged, ServerErrorRetryHandler):
    pass


def make_client(token: str, base_url: str) -> WebClient:
    """A client that waits out 429s (Retry-After) and retries 5xx and dropped connections,
    except for tagged posts (see `_UnlessTagged`)."""
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=10,
        logger=quiet_logger("rolecall.slack_api"),
        retry_handlers=[
            _ConnectionErrors(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=5),
            _ServerErrors(max_retry_count=2),
        ],
    )


@dataclass
class Found:
    """Earlier attempts found in a conversation: tag -> ts, in `channel_id`."""

    channel_id: str
    posts: dict[str, str] = field(default_factory=dict)


def post_tagged(
    client: WebClient, tag: str, *, channel: str, thread_ts: str | None = None, **message: Any
) -> tuple[str, str]:
    """Post a message tagged with `tag` and return its (channel id, ts). After a 5xx or a
    dropped connection, look for it before posting again: Slack may have taken it. The last
    error is raised for the caller to hand the claim back."""
    retries = 0
    while True:
        try:
            response = client.chat_postMessage(
                channel=channel, thread_ts=thread_ts, metadata=tagged(tag), **message
            )
            return response["channel"], response["ts"]
        except (SlackApiError, OSError) as error:
            retries += 1
            if retries > POST_RETRIES or not _maybe_posted(error):
                raise
        found = find_posts(client, channel, {tag}, thread_ts)
        if tag in found.posts:
            return found.channel_id, found.posts[tag]


def _maybe_posted(error: Exception) -> bool:
    if isinstance(error, SlackApiError):
        status: int = error.response.status_code
        return status >= 500
    return True  # network: the request may have reached Slack


def find_posts(
    client: WebClient, destination: str, tags: set[str], thread_ts: str | None = None
) -> Found:
    """Look for posts carrying any of `tags` among the latest messages of `destination` (a
    channel, a thread in it, or a person's DM), so a post whose response was lost is recorded
    instead of sent twice. A lookup Slack refuses (a missing scope, a channel the bot left)
    finds nothing: posting again risks a duplicate, not posting would lose the message. A 5xx
    or network error is raised: the caller tries again later."""
    found = Found(destination)
    if not tags:
        return found
    try:
        if destination.startswith(("U", "W")):
            opened = client.conversations_open(users=destination)
            found.channel_id = opened["channel"]["id"]
        if thread_ts:
            page = client.conversations_replies(
                channel=found.channel_id, ts=thread_ts, limit=LOOKBACK, include_all_metadata=True
            )
        else:
            page = client.conversations_history(
                channel=found.channel_id, limit=LOOKBACK, include_all_metadata=True
            )
    except SlackApiError as error:
        if error.response.status_code >= 500:
            raise
        log.warning(
            "could not look for earlier posts in %s (%s); posting again",
            destination,
            error.response.get("error"),
        )
        return found
    for message in page.get("messages") or []:
        metadata = message.get("metadata") or {}
        tag = (metadata.get("event_payload") or {}).get("tag")
        if metadata.get("event_type") == POST_EVENT and tag in tags:
            found.posts[tag] = message["ts"]
    return found
