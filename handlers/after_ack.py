"""The slow part of a listener (Web API calls), run after its ack."""

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from slack_bolt import BoltContext

from handlers.errors import SORRY, log, report_failure


class AfterAck:
    """Runs work after a listener's ack, on a pool of its own (or inline, for tests that run
    every listener to completion before the response).

    The listener itself returns right after ack(), so Bolt's listener threads stay free for new
    acks however slowly Slack answers, and a failure can never touch the ack already sent (Bolt's
    sync runner resets an ack when a listener raises after it). Failures are reported exactly as
    the global error handler reports them: logged with traceback and context, the person told.
    """

    def __init__(self, threads: int = 16, *, inline: bool = False) -> None:
        self._pool = (
            None
            if inline
            else ThreadPoolExecutor(max_workers=threads, thread_name_prefix="after-ack")
        )

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
