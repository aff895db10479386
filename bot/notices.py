"""DMs that tell one person what happened (a role given, a deadline set, an item triaged).

A notice is a keyed outbox send like any other; its message is stored with its claim, so if the
post fails, a later run posts the same words.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.blocks.cards import reporter_message, voter_update
from bot.blocks.common import Message
from bot.outbox import LEASE, Outbox, Outcome
from bot.status import HEARD, MOVES
from storage.handoffs import HandoffStore
from storage.items import ItemStore
from storage.models import Item, ItemStatus, Milestone, OutboxSend, SendKind
from storage.outbox import OutboxStore, Send
from storage.teams import TeamStore

RETRY_WINDOW = timedelta(days=1)  # past this, news is stale: a notice is given up
GRACE = timedelta(minutes=1)  # a triage this recent may still be claiming its notice


class Notices:
    def __init__(
        self,
        sends: OutboxStore,
        outbox: Outbox,
        items: ItemStore,
        handoffs: HandoffStore,
        teams: TeamStore,
    ) -> None:
        """`handoffs`: where a notice of planned feedback finds the milestone it went to;
        `teams`: whether a moved item's new role has anyone its cards go to."""
        self.sends = sends
        self.outbox = outbox
        self.items = items
        self.handoffs = handoffs
        self.teams = teams

    def dm(self, key: str, user_id: str, text: str, item_id: int | None = None) -> Outcome:
        message = Message(text, [])
        send = Send(f"notice:{key}", SendKind.NOTICE, item_id, message.to_dict())
        return self.outbox.send([send], user_id, lambda _: message)

    def item_triaged(
        self, item: Item, voters: Sequence[str] = (), *, reporter: bool = True
    ) -> Outcome | None:
        """Tell the reporter (unless not `reporter`: they triaged it themselves) what became
        of what they raised, in its source thread when it has one (else by DM), and each of
        `voters` by DM; the person who triaged it hears nothing of their own doing."""
        planned_into = self.planned_into(item)
        for voter in voters:
            if voter not in {item.reporter_id, item.handled_by}:
                key = f"{_triaged_key(item)}:{voter}"
                self.dm(key, voter, voter_update(item, planned_into), item.id)
        if not reporter:
            return None
        send, destination, thread_ts, message = reporter_notice(
            item, planned_into, unowned=self.unowned(item)
        )
        return self.outbox.send([send], destination, lambda _: message, thread_ts=thread_ts)

    def owed(self, at: datetime) -> list[OutboxSend]:
        """Notices whose post failed (or whose runner died) and are due again, after queueing
        those of items triaged by a process that stopped before claiming the notice."""
        unnoticed = self.items.triaged_unnoticed(at - RETRY_WINDOW, at - GRACE, HEARD, MOVES)
        notices = [
            reporter_notice(item, self.planned_into(item), unowned=self.unowned(item))
            for item in unnoticed
        ]
        self.sends.queue([(send, destination) for send, destination, _, _ in notices], at)
        return self.sends.to_retry(SendKind.NOTICE, at, at - LEASE, since=at - RETRY_WINDOW)

    def planned_into(self, item: Item) -> Milestone | None:
        """The milestone planned feedback went to, if any."""
        if item.status is not ItemStatus.PLANNED or item.milestone_id is None:
            return None
        return self.handoffs.milestone(item.milestone_id)

    def unowned(self, item: Item) -> bool:
        """Whether the item was moved to a role whose cards go nowhere (nobody holds it, no
        queue channel): its reporter is not told that someone has it."""
        if item.last_action not in MOVES:
            return False
        return not self.teams.routing(item.team_channel_id, item.kind.owner_role).recipients

    def resend(self, owed: OutboxSend) -> Outcome:
        stored = owed.message or {}
        message = Message.from_dict(stored)
        send = Send(owed.key, SendKind.NOTICE, owed.item_id, owed.message)
        return self.outbox.send(
            [send],
            owed.destination,
            lambda _: message,
            paced=True,
            thread_ts=stored.get("thread_ts"),
        )


def reporter_notice(
    item: Item, planned_into: Milestone | None = None, *, unowned: bool = False
) -> tuple[Send, str, str | None, Message]:
    """The reporter's notice of the item's current state (and the milestone it was
    `planned_into`; `unowned`: moved to a role nobody holds): its send (the thread it goes to
    is stored with it, for a retry), destination, thread and message."""
    in_thread = item.source_channel_id is not None and item.notice_thread_ts is not None
    message = reporter_message(
        item, in_thread=in_thread, planned_into=planned_into, unowned=unowned
    )
    thread_ts = item.notice_thread_ts if in_thread else None
    stored = {**message.to_dict(), "thread_ts": thread_ts}
    send = Send(f"notice:{_triaged_key(item)}", SendKind.NOTICE, item.id, stored)
    destination = item.source_channel_id if in_thread else item.reporter_id
    assert destination is not None
    return send, destination, thread_ts, message


def _triaged_key(item: Item) -> str:
    """One notice per item and change: a move is named by the queue it moved to, and a change
    after the first by its revision (a second question is news again). The first change's
    key is the one earlier versions used, so an upgrade sends no notice twice."""
    again = f":{item.revision}" if item.revision > 1 else ""
    if item.last_action in MOVES:
        return f"moved:{item.id}:{item.kind.value}{again}"
    return f"triaged:{item.id}:{item.status.value}{again}"
