"""The slow part of a listener (Web API calls), run after its ack; and the part that must come
before the ack (storing an item), bounded in time."""

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from slack_bolt import BoltContext

from handlers.errors import SORRY, log, report_failure

R = TypeVar("R")
ACK_BUDGET = 2.0  # seconds of work before an ack: Slack shows an error after 3


class AfterAck:
    """Runs work after a listener's ack, on a pool of its own (or inline, for tests that run
    every listener to completion before the response).

    The listener itself returns right after ack(), so Bolt's listener threads stay free for new
    acks however slowly Slack answers, and a failure can never touch the ack already sent (Bolt's
    sync runner resets an ack when a listener raises after it). Failures are reported exactly as
    the global error handler reports them: logged with traceback and context, the person told.
    """

    def __init__(
        self, threads: int = 16, *, inline: bool = False, ack_budget: float = ACK_BUDGET
    ) -> None:
        self._pool = (
            None
            if inline
            else ThreadPoolExecutor(max_workers=threads, thread_name_prefix="after-ack")
        )
        self.ack_budget = ack_budget
        self._before_ack = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="pre-ack")

    def before_ack(self, work: Callable[[], R]) -> Future[R]:
        """Start work the ack waits for; the caller waits at most `ack_budget` seconds for it
        (a locked or slow database must not turn the ack into Slack's timeout) and, past
        that, acks with a holding reply and finishes when the work does."""
        return self._before_ack.submit(work)

    def run(
        self,
        body: dict[str, Any],
        context: BoltContext,
        work: Callable[[], object],
        apology: str = SORRY,
    ) -> None:
        """`apology` is what the person hears if `work` fails: say what was already done."""
        if self._pool is None:
            self._guarded(body, context, work, apology)
            return
        self._pool.submit(self._guarded, body, context, work, apology).add_done_callback(
            _log_if_failed
        )

    def shutdown(self) -> None:
        """Finish the work already accepted (cards people were promised), then stop."""
        self._before_ack.shutdown(wait=True)
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    @staticmethod
    def _guarded(
        body: dict[str, Any], context: BoltContext, work: Callable[[], object], apology: str
    ) -> None:
        try:
            work()
        except Exception as error:  # noqa: BLE001 - reported with traceback and to the user
            report_failure(error, body, context, apology)


def _log_if_failed(future: Future[None]) -> None:
    """A failure while reporting a failure (say, the apology could not be posted) still gets
    logged: an executor would otherwise keep it in the future, unseen."""
    error = future.exception()
    if error is not None:
        log.error("after-ack failure could not be reported", exc_info=error)
