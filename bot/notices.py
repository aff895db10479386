"""DMs that tell one person what happened (a role given, a deadline set, an item triaged).

A notice is a keyed outbox send like any other; its message is stored with its claim, so if the
post fails, a later run posts the same words.
"""

from datetime import datetime, timedelta

from bot.blocks.cards import reporter_update
from bot.blocks.common import Message
from bot.outbox import LEASE, Outbox, Outcome
from storage.items import ItemStore
from storage.models import Item, OutboxSend, SendKind
from storage.outbox import OutboxStore, Send

RETRY_WINDOW = timedelta(days=1)  # past this, news is stale: a notice is given up
GRACE = timedelta(minutes=1)  # a triage this recent may still be claiming its notice


class Notices:
    def __init__(self, sends: OutboxStore, outbox: Outbox, items: ItemStore) -> None:
        self.sends = sends
        self.outbox = outbox
        self.items = items

    def dm(self, key: str, user_id: str, text: str, item_id: int | None = None) -> Outcome:
        message = Message(text, [])
        send = Send(f"notice:{key}", SendKind.NOTICE, item_id, message.to_dict())
        return self.outbox.send([send], user_id, lambda _: message)

    def item_triaged(self, item: Item) -> Outcome:
        """Tell the reporter what became of what they raised."""
        return self.dm(_triaged_key(item), item.reporter_id, reporter_update(item), item.id)

    def owed(self, at: datetime) -> list[OutboxSend]:
        """Notices whose post failed (or whose runner died) and are due again, after queueing
        those of items triaged by a process that stopped before claiming the notice."""
        unnoticed = self.items.triaged_unnoticed(at - RETRY_WINDOW, at - GRACE)
        self.sends.queue(
            [
                (
                    Send(
                        f"notice:{_triaged_key(item)}",
                        SendKind.NOTICE,
                        item.id,
                        Message(reporter_update(item), []).to_dict(),
                    ),
                    item.reporter_id,
                )
                for item in unnoticed
            ],
            at,
        )
        return self.sends.to_retry(SendKind.NOTICE, at, at - LEASE, since=at - RETRY_WINDOW)

    def resend(self, owed: OutboxSend) -> Outcome:
        message = Message.from_dict(owed.message or {})
        send = Send(owed.key, SendKind.NOTICE, owed.item_id, owed.message)
        return self.outbox.send([send], owed.destination, lambda _: message, paced=True)


def _triaged_key(item: Item) -> str:
    return f"triaged:{item.id}:{item.status.value}"
