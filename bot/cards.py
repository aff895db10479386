"""Item cards: posted to each holder of the owning role (or the team's queue channel) through
the outbox, once each, and kept up to date wherever they landed."""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks.cards import item_card, kind_noun
from bot.blocks.common import Message
from bot.blocks.handoff import handoff_card, waiting_note
from bot.clock import Clock
from bot.outbox import LEASE, Outbox, Outcome
from bot.schedule import zone
from bot.slack_client import log_api_error
from bot.status import MOVES
from storage.handoffs import HandoffStore
from storage.items import ItemStore, QueuedItem
from storage.models import (
    OPEN_STATUSES,
    Handoff,
    Item,
    ItemKind,
    ItemStatus,
    Milestone,
    SendKind,
)
from storage.outbox import OutboxStore, Send
from storage.planning import PlanningStore
from storage.teams import Routing, TeamStore

# An item filed longer ago than this without any card claimed lost its acking process.
ACK_GRACE = timedelta(minutes=1)
RECOVERY_WINDOW = timedelta(days=1)
RECOVERED_PER_RUN = 500  # items whose cards a run queues at most (the rest: the next runs)

log = logging.getLogger(__name__)


def card_send(item_id: int, recipient: str) -> Send:
    return Send(f"card:{item_id}:{recipient}", SendKind.CARD, item_id)


@dataclass(frozen=True)
class Owed:
    """A card a later run has to post: its earlier post failed, or was never tried."""

    recipient: str
    item_id: int


class Cards:
    def __init__(
        self,
        teams: TeamStore,
        items: ItemStore,
        sends: OutboxStore,
        outbox: Outbox,
        client: WebClient,
        clock: Clock,
        milestones: PlanningStore,
        handoffs: HandoffStore,
    ) -> None:
        """`milestones`: where a risk card finds the name of the milestone it threatens;
        `handoffs`: where feedback's card finds the milestone it is planned into, or the
        project manager's answer it waits for."""
        self.teams = teams
        self.items = items
        self.milestones = milestones
        self.handoffs = handoffs
        self.sends = sends
        self.outbox = outbox
        self.client = client
        self.clock = clock

    def routing(self, team_channel_id: str, kind: ItemKind) -> Routing:
        return self.teams.routing(team_channel_id, kind.owner_role)

    def deliver(self, item: Item, routing: Routing | None = None) -> int:
        """Post the card to each recipient that has none yet; returns how many now have it.

        With several recipients, all their cards are queued first: a process that stops after
        the first post leaves the others to the next scheduled run, not lost. `routing` saves
        the lookup when the caller has just made it (a freshly filed item).
        """
        assert item.id is not None
        routing = routing or self.routing(item.team_channel_id, item.kind)
        recipients = routing.recipients
        if len(recipients) > 1:
            self.sends.queue([(card_send(item.id, r), r) for r in recipients], self.clock())
        card = self.card(item)
        delivered = 0
        for recipient in recipients:
            outcome = self.outbox.send([card_send(item.id, recipient)], recipient, lambda _: card)
            delivered += outcome.ts is not None
        return delivered

    def deliver_waiting(self, channel_id: str, kind: ItemKind, limit: int) -> int:
        """Send the cards of up to `limit` items that waited for a role holder; returns how
        many found someone."""
        routing = self.routing(channel_id, kind)
        waiting = self.items.waiting_for_owner(channel_id, kind, limit)
        return sum(1 for queued in waiting if self.deliver(queued.item, routing))

    def hand_to(self, item: Item, holder: str, by: str) -> None:
        """A blocker reassigned, or a risk given an owner: its new holder gets the card by DM
        (unless they have one) and a note of who handed it to them."""
        assert item.id is not None
        card = self.card(item)
        self.outbox.send([card_send(item.id, holder)], holder, lambda _: card)
        if holder != by:
            what = f"{kind_noun(item.kind)} #{item.id} in <#{item.team_channel_id}>"
            handed = f"made you the owner of {what}" if item.kind.is_risk else f"handed you {what}"
            message = Message(f"<@{by}> {handed}.", [])
            handed_at = int(item.updated_at.timestamp())  # each reassignment is news
            send = Send(
                f"notice:assigned:{item.id}:{holder}:{handed_at}",
                SendKind.NOTICE,
                item.id,
                message.to_dict(),
            )
            self.outbox.send([send], holder, lambda _: message)

    def card(self, item: Item, *, actionable: bool = True) -> Message:
        """The item's card as it stands: its +1s, and the open item it looks like while Merge
        could take it there (open, in the same queue, merged into nothing)."""
        assert item.id is not None
        similar = None
        if item.similar_to is not None and item.status in OPEN_STATUSES[item.kind]:
            original = self.items.get(item.similar_to)
            if (
                original is not None
                and original.kind is item.kind
                and original.duplicate_of is None
                and original.status in OPEN_STATUSES[item.kind]
            ):
                similar = QueuedItem(original, original.vote_count)
        milestone = None
        if item.kind.is_risk and item.milestone_id is not None:
            milestone = self._open_milestone_name(item.team_channel_id, item.milestone_id)
        planned_into, waiting = self._plan_state(item)
        return item_card(
            item,
            item.vote_count,
            similar,
            actionable=actionable,
            milestone=milestone,
            planned_into=planned_into,
            waiting=waiting,
            tz=self.zone_of(item),
        )

    def zone_of(self, item: Item) -> tzinfo:
        """The team's time zone, whose day a snooze ends on: a snoozed card is the only one
        showing a date, so no other card costs the read."""
        if item.status is not ItemStatus.SNOOZED:
            return UTC
        return zone(self.teams.settings(item.team_channel_id).timezone)

    def _plan_state(self, item: Item) -> tuple[Milestone | None, str | None]:
        """Feedback's milestone once planned, or the handoff its planning waits for."""
        assert item.id is not None
        if item.kind is not ItemKind.FEEDBACK:
            return None, None
        if item.status is ItemStatus.PLANNED and item.milestone_id is not None:
            return self.handoffs.milestone(item.milestone_id), None
        waiting = item.status in OPEN_STATUSES[item.kind]
        pending = self.handoffs.pending(item.id) if waiting else None
        if pending is None:
            return None, None
        frozen = self.handoffs.milestone(pending.milestone_id) if pending.milestone_id else None
        return None, waiting_note(pending, frozen)

    def _open_milestone_name(self, team_channel_id: str, milestone_id: int) -> str | None:
        tracked = self.milestones.tracked(team_channel_id)
        return next((t.milestone.name for t in tracked if t.milestone.id == milestone_id), None)

    def refresh(self, item: Item) -> None:
        """Bring every posted copy of the card (found in our records) up to date. A copy with
        someone the item no longer goes to (it moved to the other queue) loses its buttons."""
        assert item.id is not None
        card = self.card(item)
        copies = self.sends.posted_cards(item.id)
        moved_away: set[str] = set()
        if item.moved_from is not None:
            current = set(self.routing(item.team_channel_id, item.kind).recipients)
            current.update([item.assignee_id] if item.assignee_id else [])
            moved_away = {posted.destination for posted in copies} - current
        left_behind = self.card(item, actionable=False) if moved_away else card
        for posted in copies:
            assert posted.channel_id is not None and posted.message_ts is not None
            copy = left_behind if posted.destination in moved_away else card
            try:
                self.client.chat_update(
                    channel=posted.channel_id,
                    ts=posted.message_ts,
                    text=copy.text,
                    blocks=copy.blocks,
                )
            except SlackApiError as error:
                log_api_error(error, item=item.id, channel=posted.channel_id)
            except OSError as error:  # Slack slow or unreachable: this copy stays as it was
                log.error("card %s in %s not updated: %r", item.id, posted.channel_id, error)

    def handoff_card(self, handoff: Handoff, item: Item) -> Message:
        """The project manager's card of a handoff as it stands (buttons while it waits)."""
        milestone = self.handoffs.milestone(handoff.milestone_id) if handoff.milestone_id else None
        deferred_to = self.handoffs.milestone(handoff.deferred_to) if handoff.deferred_to else None
        return handoff_card(handoff, item, milestone, deferred_to)

    def refresh_handoff(self, handoff: Handoff, item: Item) -> None:
        """Bring every posted copy of a handoff's card up to date, as our records have them
        (never a payload's): once decided or withdrawn, it shows how, without buttons."""
        card = self.handoff_card(handoff, item)
        for copy in self.handoffs.copies(handoff):
            assert copy.channel_id is not None and copy.message_ts is not None
            try:
                self.client.chat_update(
                    channel=copy.channel_id, ts=copy.message_ts, text=card.text, blocks=card.blocks
                )
            except SlackApiError as error:
                log_api_error(error, handoff=handoff.id, channel=copy.channel_id)
            except OSError as error:  # Slack slow or unreachable: this copy stays as it was
                log.error("handoff %s in %s not updated: %r", handoff.id, copy.channel_id, error)

    def owed(self, at: datetime) -> list[Owed]:
        """Cards of open items that a run should post: claims that failed and are due again or
        whose runner died, and the cards of items whose acking process stopped before claiming
        any, or that moved to the other queue (queued first for every recipient, so a capped
        run leaves none behind)."""
        for item in self.items.never_carded(
            at - RECOVERY_WINDOW, at - ACK_GRACE, RECOVERED_PER_RUN
        ):
            assert item.id is not None
            recipients = self.routing(item.team_channel_id, item.kind).recipients
            self.sends.queue([(card_send(item.id, r), r) for r in recipients], at)
        # Moved to the other queue: its new owners' cards (queueing one posted is a no-op).
        for item in self.items.moved_since(at - RECOVERY_WINDOW, at - ACK_GRACE, MOVES):
            assert item.id is not None
            recipients = self.routing(item.team_channel_id, item.kind).recipients
            self.sends.queue([(card_send(item.id, r), r) for r in recipients], at)
        return [
            Owed(send.destination, send.item_id)
            for send in self.sends.to_retry(
                SendKind.CARD, at, at - LEASE, settle_since=at - RECOVERY_WINDOW
            )
            if send.item_id is not None
        ]

    def resend(self, owed: Owed) -> Outcome:
        """Post an owed card, if this run wins it. The card of an item triaged meanwhile is not
        posted again, but an earlier attempt that did reach Slack is found and updated: it
        would otherwise offer buttons that no longer apply."""
        item = self.items.get(owed.item_id)
        assert item is not None, "outbox rows reference existing items"
        still_open = item.status in OPEN_STATUSES[item.kind]
        outcome = self.outbox.send(
            [card_send(owed.item_id, owed.recipient)],
            owed.recipient,
            lambda _: self._current_card(owed.item_id),
            paced=True,
            find_only=not still_open,
        )
        if outcome.ts is not None and not still_open:
            self.refresh(item)
        return outcome

    def _current_card(self, item_id: int) -> Message:
        item = self.items.get(item_id)
        assert item is not None, "outbox rows reference existing items"
        return self.card(item)
