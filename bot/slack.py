"""The Web API client every part of Rolecall shares."""

import logging

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)


def quiet_logger(name: str) -> logging.Logger:
    """A logger with an explicit level. slack-sdk and Bolt test `logger.level <= DEBUG` (not the
    effective level), so with an unset level they format a debug line for every API call and
    middleware step: measurable CPU on every request."""
    logger = logging.getLogger(name)
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)
    return logger


def make_client(token: str, base_url: str) -> WebClient:
    """A client that waits out 429s (Retry-After) and retries 5xx and dropped connections."""
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=10,
        logger=quiet_logger("rolecall.slack_api"),
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=5),
            ServerErrorRetryHandler(max_retry_count=2),
        ],
    )
