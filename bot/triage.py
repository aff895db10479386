"""Card buttons: an owner of the item's role moves it through the status machine; every copy of
its card follows, and the person who raised it hears back."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import SQLAlchemyError

from bot.blocks.cards import ANSWER, answer_heard, kind_noun, moved_unowned, unplannable
from bot.blocks.common import STATUS_LABEL
from bot.blocks.digest import settled_in_place
from bot.blocks.handoff import plan_refused
from bot.blocks.modals import TEXT_LIMIT
from bot.cards import Cards
from bot.clock import Clock
from bot.digest import Digests
from bot.digest import parent_key as digest_parent_key
from bot.home import Home
from bot.notices import Notices
from bot.parsing.words import UsageError
from bot.permissions import Permissions, Refused
from bot.slack_client import log_api_error
from bot.status import TRANSITIONS, WAKE, Ask, Hears, Transition
from bot.team_webhooks import Webhooks
from storage.db import is_disconnect
from storage.handoffs import HandoffStore
from storage.items import AlreadyQueued, ItemStore, NotMergeable, QueuedItem
from storage.models import OPEN_STATUSES, Item, ItemKind, ItemStatus, SendKind
from storage.outbox import OutboxStore
from storage.teams import TeamStore

log = logging.getLogger(__name__)

NOT_A_PERSON = "A bot or a deactivated account can't {purpose}: pick a person."
FOLLOW_UPS_LATE = (
    "{status}: done, but I couldn't finish the follow-ups just now. The person who raised it "
    "(and the new owners, for a move) will hear shortly."
)


@dataclass(frozen=True)
class Triaged:
    """The item after a click (None if it is gone), and a note for the person who clicked."""

    item: Item | None
    note: str | None = None


@dataclass(frozen=True)
class Decision:
    """What the owner answered in the transition's modal (`Transition.ask`)."""

    reason: str | None = None
    original_id: int | None = None
    until: datetime | None = None
    holder: str | None = None
    owner: str | None = None  # a risk's owner: any person
    milestone_id: int | None = None  # feedback planned into it (None: no milestone, the backlog)


GONE = "That item no longer exists."
PLAN = "item_plan"
PLANNABLE = TRANSITIONS[PLAN].allowed_from  # where feedback may be planned from
PICK_OPEN = "Pick an open item of the same team to merge it into."
DIGEST_SHOWN = timedelta(days=8)  # a digest older than this is history, not a working copy
NOT_THE_REPORTER = "Sorry, only the person who raised #{id} can answer its question."
EMPTY_ANSWER = "Write your answer first."


class Triage:
    def __init__(
        self,
        items: ItemStore,
        teams: TeamStore,
        sends: OutboxStore,
        cards: Cards,
        permissions: Permissions,
        notices: Notices,
        webhooks: Webhooks,
        home: Home,
        client: WebClient,
        clock: Clock,
        handoffs: HandoffStore,
        digests: Digests,
    ) -> None:
        self.items = items
        self.teams = teams
        self.sends = sends
        self.cards = cards
        self.permissions = permissions
        self.notices = notices
        self.webhooks = webhooks
        self.home = home
        self.client = client
        self.clock = clock
        self.handoffs = handoffs
        self.digests = digests

    def check(self, action_id: str, item_id: int, actor_id: str) -> Item:
        """The item a button may be applied to by this person: raises `Refused` when it is
        gone, no longer in a status the button applies to, not theirs to triage, or (Plan)
        waiting for the project manager. Run before a modal opens and again when it is
        submitted."""
        transition = TRANSITIONS[action_id]
        item = self.items.get(item_id)
        if item is None or item.kind is not transition.kind:
            raise Refused(GONE)
        self.permissions.require_owner(item, actor_id, _refused_to(transition))
        if item.status not in transition.allowed_from:
            raise Refused(_already(item))
        waiting = self.handoffs.pending(item_id) if transition.ask is Ask.MILESTONE else None
        if waiting is not None:
            frozen = self.handoffs.milestone(waiting.milestone_id) if waiting.milestone_id else None
            raise Refused(plan_refused(waiting, frozen))
        return item

    def holders(self, item: Item) -> list[str]:
        """Whom a blocker may be reassigned to: the role's holders but its current one."""
        holders = self.teams.holders(item.team_channel_id, item.kind.owner_role)
        return [h for h in holders if h != item.assignee_id]

    def apply(
        self,
        action_id: str,
        item_id: int,
        actor_id: str,
        decision: Decision = Decision(),
        *,
        authorized: bool = False,
    ) -> Triaged:
        """Apply a transition for an owner of the item's role (else `Refused` is raised),
        with what its modal asked (`decision`). `authorized`: the caller checked who may
        (a project manager's answer plans what the product manager asked to plan)."""
        transition = TRANSITIONS[action_id]
        item = self.items.get(item_id)
        if item is None or item.kind is not transition.kind:
            return Triaged(None, GONE)
        if not authorized:
            self.permissions.require_owner(item, actor_id, _refused_to(transition))
        holders_before = self.teams.holders(item.team_channel_id, item.kind.owner_role)
        moved = self._change(item, transition, actor_id, decision)
        try:
            try:
                current, note = self._follow_up(item_id, transition, moved, actor_id)
            except SQLAlchemyError as error:
                if not is_disconnect(error):
                    raise
                # Keyed (the notice, the webhook) or idempotent (the cards): safe to redo.
                current, note = self._follow_up(item_id, transition, moved, actor_id)
        except SQLAlchemyError:
            # The change is made; the next run of the time loop tells the reporter.
            log.exception("item %s triaged; its follow-ups failed", item_id)
            return Triaged(None, FOLLOW_UPS_LATE.format(status=transition.label))
        self.home.refresh_soon(
            {actor_id, current.reporter_id, *holders_before, *self._owners(current)}
        )
        if not moved:
            return Triaged(current, _already(current))
        return Triaged(current, note)

    def answerable(self, item_id: int, user_id: str) -> Item:
        """The feedback whose question `user_id` may answer: raises `Refused` when it is gone,
        not theirs (only its reporter answers), or no longer waits for an answer. Run when
        Answer is pressed and again when the answer is submitted."""
        item = self.items.get(item_id)
        if item is None:
            raise Refused(GONE)
        if item.reporter_id != user_id:
            raise Refused(NOT_THE_REPORTER.format(id=item_id))
        if item.status is not ItemStatus.NEEDS_INFO:
            raise Refused(_not_asked(item))
        return item

    def answered(self, item_id: int, user_id: str, text: str) -> Triaged:
        """The reporter's answer to the owner's question (`Refused` as `answerable`): the item
        is back in the queue with the answer as its reason, on every copy of its card, and the
        owner who asked hears it by one DM (once they no longer hold the role, each of those
        who do: the item is theirs now, and the asker may no longer see the team's items). A
        conditional update: a replay, a second answer or an owner's triage meanwhile changes
        nothing and tells nobody."""
        item = self.answerable(item_id, user_id)
        answer = text.strip()[:TEXT_LIMIT]
        if not answer:
            raise Refused(EMPTY_ANSWER)
        asker = item.handled_by
        asked = (ItemStatus.NEEDS_INFO,)
        now = self.clock()
        if not self.items.transition(
            item_id, asked, ItemStatus.OPEN, user_id, now, reason=answer, last_action=ANSWER
        ):
            current = self.items.get(item_id)
            return Triaged(current, GONE if current is None else _not_asked(current))
        current = self.items.get(item_id)
        assert current is not None
        owners = self._owners(current)
        # The owner who asked, while they hold the role; else whoever holds it now.
        told = {asker} if asker in owners else owners
        for owner in sorted(told - {user_id}):
            # Keyed by the change: a retry of this run never tells them twice.
            key = f"answered:{item_id}:{current.revision}:{owner}"
            self.notices.dm(key, owner, answer_heard(current, asked=owner == asker), item_id)
        self.cards.refresh(current)
        self.sync_digest(current)
        self.home.refresh_soon({user_id, *([asker] if asker else []), *owners})
        self.webhooks.item_status_changed(current)
        return Triaged(current)

    def wake(self, at: datetime) -> int:
        """Snoozed items whose day has come go back to the queue: their cards show it and
        their owners' Home lists them again. Returns how many woke."""
        woken = 0
        for item in self.items.due_to_wake(at):
            assert item.id is not None
            back = (ItemStatus.SNOOZED,)
            if self.items.transition(
                item.id, back, ItemStatus.OPEN, item.handled_by or "", at, last_action=WAKE
            ):
                woken += 1
                current = self.items.get(item.id)
                assert current is not None
                self.cards.refresh(current)
                self.sync_digest(current)
                self.home.refresh_soon(self._owners(current))
                self.webhooks.item_status_changed(current)
        return woken

    def _change(
        self, item: Item, transition: Transition, actor_id: str, decision: Decision
    ) -> bool:
        """Make the change in the database, if the item is still where the button expects."""
        assert item.id is not None
        now = self.clock()
        allowed = transition.allowed_from
        reason = decision.reason.strip() if decision.reason else None
        if transition.ask is Ask.ORIGINAL:
            try:
                original = self.original(item, decision.original_id)
                assert original.id is not None
                return self.items.merge(
                    item.id, original.id, allowed, actor_id, now, transition.action_id
                )
            except (Refused, NotMergeable):
                # Its card may still suggest that original (and offer Merge): no longer. Read
                # again: a card is never drawn from a state older than the one it shows.
                current = self.items.get(item.id)
                if current is not None:
                    self.cards.refresh(current)
                raise Refused(PICK_OPEN) from None
        changes: dict[str, object] = {"reason": reason, "last_action": transition.action_id}
        if transition.moves_to is not None:
            changes |= {"kind": transition.moves_to, "moved_from": item.kind, "assignee_id": None}
        elif transition.ask is Ask.UNTIL:
            if decision.until is None or decision.until <= now:
                raise Refused("Pick a day after today to snooze it until.")
            changes["snoozed_until"] = decision.until
        elif transition.ask is Ask.HOLDER:
            if decision.holder not in self.holders(item):
                raise Refused("Pick another holder of the role to hand it to.")
            changes = {"assignee_id": decision.holder, "last_action": transition.action_id}
        elif transition.ask is Ask.OWNER:
            changes = {
                "assignee_id": self.check_owner(decision.owner),
                "last_action": transition.action_id,
            }
        elif transition.ask is Ask.MILESTONE:
            changes["milestone_id"] = decision.milestone_id
        try:
            return self.items.transition(
                item.id, allowed, transition.to, actor_id, now, of_kind=item.kind, **changes
            )
        except AlreadyQueued:
            assert transition.moves_to is not None
            raise Refused(
                f"That message is already in the {kind_noun(transition.moves_to)} queue."
            ) from None

    def check_owner(self, owner: str | None, purpose: str = "own a risk") -> str:
        """The person picked to own something (a risk, a milestone): Slack's user menu offers
        bots and deactivated accounts too, who could not act on it. Run before a modal closes
        (the refusal shows under its field) and again when the change is made."""
        self.owner_profile(owner, purpose)
        assert owner is not None
        return owner

    def owner_profile(self, owner: str | None, purpose: str) -> dict[str, Any]:
        """`check_owner`, giving the owner's Slack profile (their time zone, for one)."""
        if owner is None:
            raise Refused("Pick the person who owns it.")
        try:
            return self.permissions.people.require_person(owner, purpose)
        except UsageError:
            raise Refused(NOT_A_PERSON.format(purpose=purpose)) from None

    def original(self, item: Item, original_id: int | None) -> Item:
        """The open item of the same team and kind that `item` duplicates (followed to the
        item it was itself merged into, if it was): raises `Refused` for any other (closed,
        moved, another team's, the item itself). Run before the Duplicate modal closes (the
        refusal shows under its field) and again when the merge is made."""
        original = self.items.get(original_id) if original_id is not None else None
        if original is not None:
            original = self.items.merged_into(original)
        if (
            original is None
            or original.id == item.id
            or original.team_channel_id != item.team_channel_id
            or original.kind is not item.kind
            or original.status not in OPEN_STATUSES[original.kind]
        ):
            raise Refused(PICK_OPEN)
        return original

    def _follow_up(
        self, item_id: int, transition: Transition, moved: bool, actor_id: str
    ) -> tuple[Item, str | None]:
        """After a change: tell who hears of it, update every copy of the card, deliver it
        where it is new (a move, a reassignment), and tell the team's webhooks. Gives the item
        and a note for the person who changed it: a move whose cards went nowhere."""
        current = self.items.get(item_id)
        assert current is not None
        if moved and transition.hears is not Hears.NOBODY:
            # Claimed before the cards are touched: a slow Slack cannot cost the news.
            voters = self.items.voters(item_id) if transition.hears is Hears.EVERYONE else []
            self.notices.item_triaged(current, voters, reporter=current.reporter_id != actor_id)
        self.cards.refresh(current)
        self.sync_digest(current)
        if moved and transition.kind is ItemKind.FEEDBACK:
            self._withdraw_handoff(current, actor_id)
        note = None
        if moved and transition.moves_to is not None:
            routing = self.cards.routing(current.team_channel_id, current.kind)
            self.cards.deliver(current, routing)
            if not routing.recipients:
                note = moved_unowned(current)
        if moved and transition.ask in (Ask.HOLDER, Ask.OWNER) and current.assignee_id:
            self.cards.hand_to(current, current.assignee_id, actor_id)
        if moved and transition.ask is Ask.ORIGINAL and current.duplicate_of is not None:
            original = self.items.get(current.duplicate_of)
            assert original is not None
            self.cards.refresh(original)  # its +1 count grew
        if moved:
            self.webhooks.item_status_changed(current)
        return current, note

    def _withdraw_handoff(self, item: Item, actor_id: str) -> None:
        """Feedback that can no longer be planned (declined, merged, moved to blockers) takes
        back what its planning asked of the project manager: every copy of their card says
        why, without buttons. Once: a withdrawal is a conditional update."""
        assert item.id is not None
        if plannable(item):
            return
        gone = self.handoffs.withdraw(item.id, actor_id, self.clock(), unplannable(item))
        if gone is not None:
            self.cards.refresh_handoff(gone, item)

    def _owners(self, item: Item) -> set[str]:
        return set(self.teams.holders(item.team_channel_id, item.kind.owner_role))

    def sync_digest(self, item: Item) -> None:
        """Bring the item's rows up to date in its team's latest digest reply of the role that
        owns it (and, after a move, of the role that did): the digest is a copy of its card."""
        since = self.clock() - DIGEST_SHOWN
        roles = {item.kind.owner_role} | (
            {item.moved_from.owner_role} if item.moved_from else set()
        )
        for role in roles:
            key_like = f"digest:{item.team_channel_id}:%:{role.value}"
            reply = self.sends.latest_posted(SendKind.DIGEST, item.team_channel_id, key_like, since)
            if reply is not None and reply.channel_id and reply.message_ts:
                self.update_digest(item, reply.channel_id, reply.message_ts)

    def update_digest(self, item: Item, channel_id: str, ts: str) -> None:
        """Bring the item's rows up to date in the digest reply at (channel, ts) (one clicked,
        or its team's latest), if our records say we posted that reply in its team channel.
        Its blocks are read back from Slack: a click's payload decides nothing here; its
        counted headings are recounted from the store."""
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
            headings = self.digests.headings(reply)  # recounted: a triage changes the counts
            names = self.digests.row_names(item)
            blocks = settled_in_place(
                message.get("blocks") or [],
                entry,
                self.clock(),
                names,
                headings,
                self.cards.zone_of(item),
            )
            if blocks == message.get("blocks"):
                return  # not listed there, or already up to date
            self.client.chat_update(
                channel=channel_id, ts=ts, text=message.get("text", ""), blocks=blocks
            )
        except SlackApiError as error:
            log_api_error(error, channel=channel_id)
        except OSError as error:  # Slack slow or unreachable: the row stays as it was
            log.error("digest reply %s in %s not updated: %r", ts, channel_id, error)


def plannable(item: Item) -> bool:
    """Whether Plan may apply: feedback (not moved away) in a status Plan starts from."""
    return item.kind is ItemKind.FEEDBACK and item.status in PLANNABLE


# What a refusal says the person may not do, per button ("Sorry, only the product manager of
# #launch can …"): a label is a noun or a verb ("Duplicate", "Needs info"), not always a verb.
_REFUSED_TO = {
    "item_plan": "plan this",
    "item_decline": "decline this",
    "item_duplicate": "merge this into another item",
    "item_needs_info": "ask about this",
    "item_snooze": "snooze this",
    "item_reopen": "put this back in the queue",
    "item_to_blockers": "move this to blockers",
    "item_acknowledge": "acknowledge this",
    "item_resolve": "resolve this",
    "item_to_feedback": "move this to feedback",
    "item_reassign": "reassign this",
}


def _refused_to(transition: Transition) -> str:
    """What a refusal says the person may not do: "decline this", "triage this risk"."""
    return "triage this risk" if transition.kind.is_risk else _REFUSED_TO[transition.action_id]


def _not_asked(item: Item) -> str:
    """Why an answer is too late: answered already, or the owner moved the item on."""
    if item.kind is ItemKind.FEEDBACK and item.status is ItemStatus.OPEN:
        return f"Thanks, but #{item.id} no longer waits for an answer: it is back in the queue."
    return (
        f"Thanks, but #{item.id} no longer waits for an answer: it was {unplannable(item)} by "
        f"<@{item.handled_by}>."
    )


def _already(item: Item) -> str:
    status = STATUS_LABEL[item.status].lower()
    return f"Already {status} by <@{item.handled_by}>."
