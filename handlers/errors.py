"""Failure reporting for Bolt's global error handler and for the after-ack pool."""

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from slack_bolt import BoltContext, BoltResponse
from slack_sdk.errors import SlackApiError

from bot.service import log_api_error

log = logging.getLogger(__name__)

SORRY = "Sorry, something went wrong on my side and I couldn't finish that. Please try again."


def report_failure(error: Exception, body: dict[str, Any], context: BoltContext) -> None:
    """Log with context and traceback; tell the person who asked, when there is one."""
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
        context.respond(text=SORRY, response_type="ephemeral", replace_original=False)


def on_error(
    error: Exception, body: dict[str, Any], response: BoltResponse | None, context: BoltContext
) -> BoltResponse | None:
    """Bolt's global error handler: a failure before ack() becomes an ephemeral apology."""
    if response is not None and _asked_by_a_person(body):
        log.error("listener failed before ack: command=%s", body.get("command"), exc_info=error)
        return BoltResponse(status=200, body={"response_type": "ephemeral", "text": SORRY})
    report_failure(error, body, context)
    return None


class AfterAck:
    """Runs the slow part of a listener (Web API calls) after its ack, on a pool of its own.

    The listener itself returns right after ack(), so Bolt's listener threads stay free for new
    acks however slowly Slack answers, and a failure can never touch the ack already sent (Bolt's
    sync runner resets an ack when a listener raises after it). Failures are reported exactly as
    the global error handler reports them: logged with traceback and context, the person told.
    """

    def __init__(self, threads: int = 16) -> None:
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="after-ack")

    def run(self, body: dict[str, Any], context: BoltContext, work: Callable[[], object]) -> None:
        self._pool.submit(self._guarded, body, context, work).add_done_callback(_log_if_failed)

    def shutdown(self) -> None:
        """Finish the work already accepted (cards people were promised), then stop."""
        self._pool.shutdown(wait=True)

    @staticmethod
    def _guarded(body: dict[str, Any], context: BoltContext, work: Callable[[], object]) -> None:
        try:
            work()
        except Exception as error:  # noqa: BLE001 - reported with traceback and to the user
            report_failure(error, body, context)


def _asked_by_a_person(body: dict[str, Any]) -> bool:
    return "command" in body or body.get("type") == "block_actions"


def _log_if_failed(future: Future[None]) -> None:
    """A failure while reporting a failure (say, the apology could not be posted) still gets
    logged: an executor would otherwise keep it in the future, unseen."""
    error = future.exception()
    if error is not None:
        log.error("after-ack failure could not be reported", exc_info=error)
