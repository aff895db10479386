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

from bot.metrics import SLACK_RATE_LIMITED, SLACK_RETRIES

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


class _Counted:
    """Counts each retry under `reason` before it waits."""

    reason: str

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        SLACK_RETRIES.labels(self.reason).inc()
        super().prepare_for_next_attempt(  # type: ignore[misc]
            state=state, request=request, response=response, error=error
        )


class _ConnectionErrors(_Counted, _UnlessTagged, ConnectionErrorRetryHandler):
    reason = "connection_error"


class _ServerErrors(_Counted, _UnlessTagged, ServerErrorRetryHandler):
    reason = "server_error"


class _RateLimits(_Counted, RateLimitErrorRetryHandler):
    """Counts every 429, the ones past `max_retry_count` (returned to the caller) too: the
    client asks this handler about each response the handlers before it did not retry."""

    reason = "rate_limited"

    def can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is not None and response.status_code == 429:
            SLACK_RATE_LIMITED.labels(request.url.rsplit("/", 1)[-1]).inc()
        return super().can_retry(state=state, request=request, response=response, error=error)


def make_client(token: str | None, base_url: str, timeout: float = 10.0) -> WebClient:
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
            _RateLimits(max_retry_count=5),
            _ServerErrors(max_retry_count=2),
        ],
    )


def log_api_error(error: SlackApiError, **context: Any) -> None:
    """Log a failed Web API call with its method and Slack's error code (never the token)."""
    method = str(error.response.api_url).rsplit("/", 1)[-1]
    details = " ".join(f"{key}={value}" for key, value in context.items())
    log.error("Slack %s failed: %s %s", method, error.response.get("error"), details)
