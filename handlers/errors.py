"""Failure reporting for Bolt's global error handler and for after-ack work, and the replies
that are answers rather than failures (bad input, a refusal)."""

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from slack_bolt import BoltContext, BoltResponse
from slack_sdk.errors import SlackApiError

from bot.parsing.words import UsageError
from bot.permissions import Refused
from bot.slack_client import log_api_error

log = logging.getLogger(__name__)

R = TypeVar("R")

SORRY = "Sorry, something went wrong on my side and I couldn't finish that. Please try again."


def answer(run: Callable[[], R]) -> R | str:
    """The reply to a command: what `run` returns, or why it would not (usage, refusal)."""
    try:
        return run()
    except (UsageError, Refused) as declined:
        return str(declined)


def report_failure(
    error: Exception, body: dict[str, Any], context: BoltContext, apology: str = SORRY
) -> None:
    """Log with context and traceback; tell the person who asked, when there is one, with
    `apology` (never "try again" for work that was done)."""
    if isinstance(error, SlackApiError):
        log_api_error(error)
    log.error(
        "listener failed: type=%s command=%s action=%s channel=%s user=%s",
        body.get("type") or "command",
        body.get("command"),
        (body.get("actions") or [{}])[0].get("action_id"),
        context.channel_id,
        context.user_id,
        exc_info=error,
    )
    if _asked_by_a_person(body) and context.respond is not None:
        context.respond(text=apology, response_type="ephemeral", replace_original=False)


def on_error(
    error: Exception, body: dict[str, Any], response: BoltResponse | None, context: BoltContext
) -> BoltResponse | None:
    """Bolt's global error handler: a failure before ack() becomes an ephemeral apology."""
    if response is not None and _asked_by_a_person(body):
        log.error("listener failed before ack: command=%s", body.get("command"), exc_info=error)
        return BoltResponse(status=200, body={"response_type": "ephemeral", "text": SORRY})
    report_failure(error, body, context)
    return None


def _asked_by_a_person(body: dict[str, Any]) -> bool:
    return "command" in body or body.get("type") == "block_actions"
