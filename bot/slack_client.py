"""The Web API client every part of Rolecall shares: 429s waited out, failures logged safely."""

import json
import logging
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

TAG_EVENT = "rolecall_post"  # the metadata event type of every post the outbox makes

log = logging.getLogger(__name__)


def quiet_logger(name: str) -> logging.Logger:
    """A logger with an explicit level. slack-sdk and Bolt test `logger.level <= DEBUG` (not the
    effective level), so with an unset level they format a debug line for every API call and
    middleware step: measurable CPU on every request."""
    logger = logging.getLogger(name)
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)
    return logger


def tag_metadata(tag: str) -> dict[str, Any]:
    """Message metadata that lets a later run find this post in its conversation."""
    return {"event_type": TAG_EVENT, "event_payload": {"tag": tag}}


def _is_tagged_post(request: HttpRequest) -> bool:
    if not request.url.endswith("/chat.postMessage") or not request.data:
        return False
    try:
        body = json.loads(request.data)
    except ValueError:
        return False  # form-encoded: not one of ours
    metadata = body.get("metadata") if isinstance(body, dict) else None
    return isinstance(metadata, dict) and metadata.get("event_type") == TAG_EVENT


class _UnlessTagged:
    """A 5xx or a dropped connection may come after Slack posted the message, so a tagged post
    is not resent blindly here: the outbox looks for it first."""

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


def make_client(token: str, base_url: str, timeout: float = 10.0) -> WebClient:
    """A client that waits out 429s (Retry-After) and retries 5xx and dropped connections,
    except for tagged posts (see `_UnlessTagged`). A call slower than `timeout` seconds raises
    TimeoutError; for a post that is a lost response, looked for before posting again."""
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,  # type: ignore[arg-type]  # typed int; urllib takes any number
        logger=quiet_logger("rolecall.slack_api"),
        retry_handlers=[
            _ConnectionErrors(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=5),
            _ServerErrors(max_retry_count=2),
        ],
    )


def log_api_error(error: SlackApiError, **context: Any) -> None:
    """Log a failed Web API call with its method and Slack's error code (never the token)."""
    method = str(error.response.api_url).rsplit("/", 1)[-1]
    details = " ".join(f"{key}={value}" for key, value in context.items())
    log.error("Slack %s failed: %s %s", method, error.response.get("error"), details)
