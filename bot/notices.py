"""DMs that tell one person what happened (a role given, a deadline set, an item triaged).

A notice is a keyed outbox send like any other; its message is stored with its claim, so if the
post fails, a later run posts the same words.
"""

from datetime import datetime, timedelta

from bot.blocks.common import Message
from bot.outbox import LEASE, Outbox, Outcome
from storage.models import OutboxSend, SendKind
from storage.outbox import OutboxStore, Send

RETRY_WINDOW = timedelta(days=1)  # past this, news is stale: a notice is given up


class Notices:
    def __init__(self, sends: OutboxStore, outbox: Outbox) -> None:
        self.sends = sends
        self.outbox = outbox

    def dm(self, key: str, user_id: str, text: str, item_id: int | None = None) -> Outcome:
        message = Message(text, [])
        send = Send(f"notice:{key}", SendKind.NOTICE, item_id, message.to_dict())
        return self.outbox.send([send], user_id, lambda _: message)

    def owed(self, at: datetime) -> list[OutboxSend]:
        """Notices whose post failed (or whose runner died) and are due again."""
        return self.sends.to_retry(SendKind.NOTICE, at, at - LEASE, since=at - RETRY_WINDOW)

    def resend(self, owed: OutboxSend) -> Outcome:
        message = Message.from_dict(owed.message or {})
        send = Send(owed.key, SendKind.NOTICE, owed.item_id, owed.message)
        return self.outbox.send([send], owed.destination, lambda _: message, paced=True)
