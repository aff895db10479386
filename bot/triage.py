"""Card buttons: an owner of the item's role moves it through the status machine; every copy of
its card follows, and the person who raised it hears back."""

import logging
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import SQLAlchemyError

from bot.blocks.common import STATUS_LABEL, Message
from bot.blocks.digest import settled_in_place
from bot.blocks.lists import queue_list
from bot.cards import Cards
from bot.clock import Clock
from bot.digest import parent_key as digest_parent_key
from bot.notices import Notices
from bot.permissions import Permissions
from bot.slack_client import log_api_error
from bot.status import TRANSITIONS
from bot.team_webhooks import Webhooks
from storage.db import is_disconnect
from storage.items import ItemStore, QueuedItem
from storage.models import Item, ItemKind, SendKind
from storage.outbox import OutboxStore

log = logging.getLogger(__name__)

FOLLOW_UPS_LATE = (
    "{status}, but I couldn't finish the follow-ups just now: the person who raised it will be "
    "told shortly, and pressing the button again refreshes the card."
)


@dataclass(frozen=True)
class Triaged:
    """The item after a click (None if it is gone), and a note for the person who clicked."""

    item: Item | None
    note: str | None = None


class Triage:
    def __init__(
        self,
        items: ItemStore,
        sends: OutboxStore,
        cards: Cards,
        permissions: Permissions,
        notices: Notices,
        webhooks: Webhooks,
        client: WebClient,
        clock: Clock,
    ) -> None:
        self.items = items
        self.sends = sends
        self.cards = cards
        self.permissions = permissions
        self.notices = notices
        self.webhooks = webhooks
        self.client = client
        self.clock = clock

    def apply(self, action_id: str, item_id: int, actor_id: str) -> Triaged:
        """Apply a button for an owner of the item's role (else `Refused` is raised)."""
        transition = TRANSITIONS[action_id]
        item = self.items.get(item_id)
        if item is None or item.kind is not transition.kind:
            return Triaged(None, "That item no longer exists.")
        self.permissions.require_owner(item, actor_id, f"{transition.label.lower()} this")
        moved = self.items.transition(
            item_id, transition.allowed_from, transition.to, actor_id, self.clock()
        )
        try:
            try:
                current = self._follow_up(item_id, moved, actor_id)
            except SQLAlchemyError as error:
                if not is_disconnect(error):
                    raise
                # Keyed (the notice, the webhook) or idempotent (the cards): safe to redo.
                current = self._follow_up(item_id, moved, actor_id)
        except SQLAlchemyError:
            # The change is made; the next run of the time loop tells the reporter.
            log.exception("item %s triaged; its follow-ups failed", item_id)
            return Triaged(None, FOLLOW_UPS_LATE.format(status=STATUS_LABEL[transition.to]))
        if not moved:
            status = STATUS_LABEL[current.status].lower()
            return Triaged(current, f"Already {status} by <@{current.handled_by}>.")
        return Triaged(current)

    def _follow_up(self, item_id: int, moved: bool, actor_id: str) -> Item:
        """After a status change: tell the reporter, update every copy of the card, and tell
        the team's webhooks."""
        current = self.items.get(item_id)
        assert current is not None
        if moved and current.reporter_id != actor_id:
            # Claimed before the cards are touched: a slow Slack cannot cost the news.
            self.notices.item_triaged(current)
        self.cards.refresh(current)
        if moved:
            self.webhooks.item_status_changed(current)
        return current

    def queue(self, channel_id: str, kind: ItemKind) -> Message:
        """The team's open queue of one kind, as its owners work it."""
        return queue_list(channel_id, kind, self.items.open_queue(channel_id, kind))

    def update_digest(self, item: Item, channel_id: str, ts: str) -> None:
        """Bring the item's rows up to date in the digest reply at (channel, ts) that was
        clicked, if our records say we posted that reply in the item's team channel. Its blocks
        are read back from Slack: a click's payload decides nothing here."""
        reply = self.sends.posted(SendKind.DIGEST, channel_id, ts)
        parent = None if reply is None else self.sends.get(digest_parent_key(reply.key))
        if (
            reply is None
            or reply.destination != item.team_channel_id
            or parent is None
            or parent.key == reply.key
            or parent.message_ts is None
        ):
            log.warning("not a digest reply of this item's team: channel=%s ts=%s", channel_id, ts)
            return
        try:
            page = self.client.conversations_replies(
                channel=channel_id,
                ts=parent.message_ts,
                oldest=ts,
                latest=ts,
                inclusive=True,
                limit=2,
            )
            message = next((m for m in page["messages"] if m.get("ts") == ts), None)
            if message is None:
                return  # deleted since: nothing left to update
            assert item.id is not None
            entry = QueuedItem(item, self.items.votes(item.id))
            blocks = settled_in_place(message.get("blocks") or [], entry, self.clock())
            self.client.chat_update(
                channel=channel_id, ts=ts, text=message.get("text", ""), blocks=blocks
            )
        except SlackApiError as error:
            log_api_error(error, channel=channel_id)
        except OSError as error:  # Slack slow or unreachable: the row stays as it was
            log.error("digest reply %s in %s not updated: %r", ts, channel_id, error)
