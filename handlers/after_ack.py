"""The work around a listener's ack: what must come before it (storing an item, reading a queue)
within a time budget, and the slow part (Web API calls) after it, on pools of their own."""

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from sqlalchemy.exc import SQLAlchemyError

from bot.blocks.common import Message
from handlers.errors import SORRY, log, report_failure
from handlers.logs import ContextExecutor, in_this_context
from storage.db import acking, is_disconnect

ACK_BUDGET = 2.0  # seconds of work before an ack, from the request's arrival: Slack gives up at 3
RECEIVED_AT = "received_at"  # the context key holding when the request arrived (time.monotonic)
LISTENER_THREADS = 16
PROMPT_THREADS = 8
SHUTDOWN_GRACE = 20.0  # seconds to finish accepted work when stopping (within compose's 30)


@dataclass(frozen=True)
class Answer:
    """What a listener acks with (None: an empty ack), and the work that follows the ack, with
    what its author hears if that work fails (say what was already done)."""

    reply: Message | None = None
    then: Callable[[], object] | None = None
    apology: str = SORRY


class AfterAck:
    """Runs the work around acks.

    Bolt's listeners run on `listeners` and return right after ack(): the slow part goes to a
    pool of its own (inline, for tests that run every listener to completion before the
    response), so listener threads stay free for new acks however slowly Slack or the database
    answer, and a failure can never touch the ack already sent (Bolt's sync runner resets an ack
    when a listener raises after it). Failures are reported as the global error handler reports
    them: logged with traceback and context, the person told.
    """

    def __init__(
        self, threads: int = 16, *, inline: bool = False, ack_budget: float = ACK_BUDGET
    ) -> None:
        self.ack_budget = ack_budget
        # Each runs its tasks in the submitter's context: log lines name their request.
        self.listeners = ContextExecutor(LISTENER_THREADS, thread_name_prefix="listener")
        self._before_ack = ContextExecutor(max_workers=threads, thread_name_prefix="pre-ack")
        self._pool = (
            None if inline else ContextExecutor(max_workers=threads, thread_name_prefix="after-ack")
        )
        # Modals: Slack's trigger expires 3 s after the click, so opening one must never wait
        # behind the cards and notices a burst of filings queues on the main pool.
        self._prompt = (
            None
            if inline
            else ContextExecutor(max_workers=PROMPT_THREADS, thread_name_prefix="prompt")
        )
        self._closing = threading.Lock()
        self._closed = False

    def answer(
        self,
        ack: Ack,
        respond: Respond,
        body: dict[str, Any],
        context: BoltContext,
        work: Callable[[], Answer],
        *,
        slow: str,
        failed: str,
    ) -> None:
        """Ack with what `work` answers if it answers within the ack budget, counted from the
        request's arrival. Past the budget, ack with `slow` and respond with the answer when it
        comes: a locked or slow database must not turn an ack into Slack's timeout. If the
        database fails, the person hears `failed`; a connection found dead is retried once on
        a new one first. `work` must be safe to run twice: a read, or a filing keyed by the
        command's trigger id (a second run finds what the first stored)."""
        pending = self._before_ack.submit(_acking, work)
        try:
            try:
                answer = pending.result(timeout=self._budget_left(context))
            except SQLAlchemyError as error:
                if not is_disconnect(error):
                    raise
                pending = self._before_ack.submit(_acking, work)
                answer = pending.result(timeout=self._budget_left(context))
        except FutureTimeout:
            ack(text=slow)
            pending.add_done_callback(
                in_this_context(
                    lambda done: self.run(
                        body,
                        context,
                        lambda: self._answer_late(done, respond, body, context, failed),
                    )
                )
            )
            return
        except SQLAlchemyError:
            _log_database_failure(body, context)
            ack(text=failed)
            return
        if answer.reply is None:
            ack()
        else:
            ack(text=answer.reply.text, blocks=answer.reply.blocks or None)
        if answer.then is not None:
            self.run(body, context, answer.then, answer.apology)

    def run(
        self,
        body: dict[str, Any],
        context: BoltContext,
        work: Callable[[], object],
        apology: str = SORRY,
        *,
        prompt: bool = False,
    ) -> None:
        """Run `work` after the ack; `apology` is what the person hears if it fails. `prompt`:
        work against a deadline (opening a modal), on a pool nothing slow queues on."""
        with self._closing:
            pool = self._prompt if prompt else self._pool
            if pool is not None and not self._closed:
                pool.submit(self._guarded, body, context, work, apology).add_done_callback(
                    in_this_context(_log_if_failed)
                )
                return
        # Inline, or shutting down: finish here rather than drop work people were promised.
        self._guarded(body, context, work, apology)

    def shutdown(self, timeout: float = SHUTDOWN_GRACE) -> int:
        """Finish the work already accepted (cards people were promised) within `timeout`
        seconds, then stop: listeners first, then what they started before and after their
        acks. Returns how many tasks were still running when time ran out."""
        deadline = time.monotonic() + timeout
        running = self.listeners.drain(timeout)
        running += self._before_ack.drain(deadline - time.monotonic())
        with self._closing:
            self._closed = True
        for pool in (self._prompt, self._pool):
            if pool is not None:
                running += pool.drain(deadline - time.monotonic())
        return running

    def _budget_left(self, context: BoltContext) -> float:
        received_at = context.get(RECEIVED_AT)
        if not isinstance(received_at, float):
            return self.ack_budget
        return max(0.0, self.ack_budget - (time.monotonic() - received_at))

    def _answer_late(
        self,
        done: Future[Answer],
        respond: Respond,
        body: dict[str, Any],
        context: BoltContext,
        failed: str,
    ) -> None:
        try:
            answer = done.result()
        except SQLAlchemyError:
            _log_database_failure(body, context)
            respond(text=failed, response_type="ephemeral")
            return
        if answer.reply is not None:
            respond(text=answer.reply.text, blocks=answer.reply.blocks, response_type="ephemeral")
        if answer.then is not None:
            self.run(body, context, answer.then, answer.apology)

    @staticmethod
    def _guarded(
        body: dict[str, Any], context: BoltContext, work: Callable[[], object], apology: str
    ) -> None:
        """Run `work` on the main pool, not the one acks use. It is not retried when its
        database connection dies: much of it is not safe to run twice (a deadline added, a
        digest posted on request); what it leaves undone is recovered by the time loop (cards,
        the reporter's notice) or reported to the person."""
        try:
            with acking(False):
                work()
        except Exception as error:  # noqa: BLE001 - reported with traceback and to the user
            report_failure(error, body, context, apology)


def _acking(work: Callable[[], Answer]) -> Answer:
    """Run work an ack waits for on the database's ack pool."""
    with acking():
        return work()


def _log_database_failure(body: dict[str, Any], context: BoltContext) -> None:
    log.exception(
        "the database failed before the ack: command=%s channel=%s",
        body.get("command"),
        context.channel_id,
    )


def _log_if_failed(future: Future[None]) -> None:
    """A failure while reporting a failure (say, the apology could not be posted) still gets
    logged: an executor would otherwise keep it in the future, unseen."""
    error = future.exception()
    if error is not None:
        log.error("after-ack failure could not be reported", exc_info=error)
