"""Plan as a handoff: the product manager decides *what* (plans feedback), the project manager
decides *when* (milestones).

Planning into an open milestone whose scope is not frozen is done at once. Proposing a new
milestone, or planning into a frozen one (scope creep), asks the project manager first: a
pending `Handoff` and a card for each of them. Their answer plans the item (or, declined,
leaves it to be planned again), tells the product manager, and settles every copy of the card.

Exactly once: a handoff and its cards are stored in one transaction, a decision is a
conditional update (a second click or a second project manager changes nothing), and whatever
follows a decision is keyed or idempotent, so it is redone whenever a decided card is clicked.
"""

from dataclasses import dataclass
from datetime import date

from bot.blocks.cards import unplannable
from bot.blocks.common import Message, quoted_name
from bot.blocks.handoff import (
    accepted_note,
    creep_accepted_note,
    declined_note,
    deferred_note,
    handoff_card,
    withdrawn,
)
from bot.clock import Clock
from bot.home import Home
from bot.notices import Notices
from bot.outbox import Outbox, Outcome
from bot.parsing.words import UsageError, name_key
from bot.parsing.words import name as checked_name
from bot.people import zone_of
from bot.permissions import Refused
from bot.planning import Planning
from bot.triage import PLAN, PLANNABLE, Decision, Triage, plannable
from storage.handoffs import CARD_KEY, HandoffStore
from storage.items import ItemStore
from storage.models import (
    Handoff,
    HandoffKind,
    HandoffStatus,
    Item,
    Milestone,
    Role,
    SendKind,
    WorkStatus,
)
from storage.outbox import Send
from storage.teams import TeamStore

GONE = "That proposal no longer exists."
OTHER_TARGET = "Pick another open milestone of this team, or the backlog."


@dataclass(frozen=True)
class NewMilestone:
    """A milestone the product manager proposes; the project manager sets its date."""

    name: str
    due: date | None = None
    owner_id: str | None = None


@dataclass(frozen=True)
class PlanChoice:
    """What the Plan modal chose: an existing milestone, or a new one."""

    milestone_id: int | None = None
    new: NewMilestone | None = None


class Unfit(Refused):
    """A refusal that belongs under one field of the modal that asked (`field`: its block)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class Decided(Refused):
    """The handoff was decided already: the refusal says how and by whom."""

    def __init__(self, handoff: Handoff) -> None:
        if handoff.status is HandoffStatus.WITHDRAWN:
            super().__init__(f"Withdrawn: {withdrawn(handoff)}.")
        else:
            super().__init__(f"Already {handoff.status.value} by <@{handoff.decided_by}>.")
        self.handoff = handoff


class Handoffs:
    def __init__(
        self,
        store: HandoffStore,
        items: ItemStore,
        teams: TeamStore,
        triage: Triage,
        planning: Planning,
        notices: Notices,
        outbox: Outbox,
        home: Home,
        clock: Clock,
    ) -> None:
        self.home = home
        self.store = store
        self.items = items
        self.teams = teams
        self.triage = triage
        self.planning = planning
        self.notices = notices
        self.outbox = outbox
        self.clock = clock

    # The product manager plans --------------------------------------------------------------

    def frozen(self, milestone: Milestone, today: date) -> bool:
        """Whether feedback planned into it now is scope creep."""
        return milestone.freeze_date is not None and today >= milestone.freeze_date

    def plan_options(self, item_id: int, actor_id: str) -> list[tuple[Milestone, bool]]:
        """The open milestones Plan offers (each with whether it is frozen): those of the
        item's team, and only to someone who may plan it."""
        item = self.items.get(item_id)
        if item is None:
            return []
        try:
            self.triage.permissions.require_owner(item, actor_id, "plan this")
        except Refused:
            return []
        today = self.planning.today(item.team_channel_id)
        tracked = self.planning.store.tracked(item.team_channel_id)
        return [(t.milestone, self.frozen(t.milestone, today)) for t in tracked]

    def check_plan(self, item_id: int, actor_id: str, choice: PlanChoice) -> Item:
        """The item, if this person may plan it as chosen: `Refused` (role, status, a handoff
        pending) or `Unfit` (under the field at fault) otherwise. Run before the modal closes
        and again when the plan is made."""
        item = self.triage.check(PLAN, item_id, actor_id)
        team = item.team_channel_id
        if choice.new is None:
            milestone = self._open_milestone(team, choice.milestone_id)
            if self.frozen(milestone, self.planning.today(team)) and not self._deciders(team):
                raise Unfit(
                    "milestone",
                    f"'{quoted_name(milestone.name, 80)}' is frozen, and this team has no project "
                    "manager to agree to more scope.",
                )
            return item
        try:  # the rule `/milestone add` keeps: its key must fit too ("ß" folds to "ss")
            proposed = checked_name(choice.new.name.split(), "Name the new milestone.")
        except UsageError as usage:
            raise Unfit("name", str(usage)) from None
        existing = self.planning.store.milestone(team, name_key(proposed))
        label = quoted_name(proposed, 80)
        if existing is not None and existing.status is WorkStatus.OPEN:
            raise Unfit(
                "name", f"This team already has a milestone called '{label}': pick it above."
            )
        if existing is not None:
            raise Unfit(
                "name", f"A finished milestone of this team is called '{label}': pick another."
            )
        if choice.new.due is not None and choice.new.due < self.planning.today(team):
            raise Unfit("due", "Pick a date from today on.")
        if choice.new.due is None and actor_id in self._deciders(team):
            raise Unfit(
                "due", "You are this team's project manager too: give the milestone its date."
            )
        if not self._deciders(team):
            raise Unfit(
                "name",
                "This team has no project manager yet: a new milestone needs one to create it.",
            )
        if choice.new.owner_id is not None:
            self.check_owner(choice.new.owner_id)
        return item

    def check_owner(self, owner_id: str) -> str:
        """A milestone's owner must be a person, as `/milestone add` wants: `Unfit` under the
        modal's owner field otherwise. Returns their time zone (their reminders wait for it)."""
        try:
            return zone_of(self.triage.owner_profile(owner_id, "own a milestone"))
        except Refused as refused:
            raise Unfit("owner", str(refused)) from None

    def plan(self, item_id: int, actor_id: str, choice: PlanChoice) -> str | None:
        """Plan the item as chosen: into an open milestone at once, or by asking the project
        manager (a new milestone, scope creep). Returns a note for the product manager."""
        item = self.check_plan(item_id, actor_id, choice)
        assert item.id is not None
        asked = Handoff(
            team_channel_id=item.team_channel_id,
            item_id=item.id,
            kind=HandoffKind.NEW_MILESTONE,
            requested_by=actor_id,
            requested_at=self.clock(),
        )
        # One person holding both roles decides at once: a card asking themselves is noise.
        deciders = self._deciders(item.team_channel_id)
        deciding = actor_id in deciders
        if choice.new is not None:
            asked.name = " ".join(choice.new.name.split())
            asked.due_date, asked.owner_id = choice.new.due, choice.new.owner_id
            if not deciding:
                return self._request(item, asked, None)
            assert choice.new.due is not None  # `check_plan` asked a decider for the date
            owner_tz = self.check_owner(choice.new.owner_id) if choice.new.owner_id else None
            created = self._create(asked, choice.new.due, choice.new.owner_id, owner_tz, actor_id)
            note = self._plan_into(item_id, actor_id, created)
            self.home.refresh_soon(deciders)  # their Homes list the new milestone
            return note
        milestone = self._open_milestone(item.team_channel_id, choice.milestone_id)
        if not self.frozen(milestone, self.planning.today(item.team_channel_id)):
            return self._plan_into(item_id, actor_id, milestone)
        asked.kind, asked.milestone_id = HandoffKind.SCOPE_CREEP, milestone.id
        if not deciding:
            return self._request(item, asked, milestone)
        return self._accept_own_creep(item, asked, milestone)

    def _plan_into(self, item_id: int, actor_id: str, milestone: Milestone) -> str | None:
        return self.triage.apply(PLAN, item_id, actor_id, Decision(milestone_id=milestone.id)).note

    def _accept_own_creep(self, item: Item, asked: Handoff, milestone: Milestone) -> str | None:
        """Scope creep asked and accepted by the same person (both roles): recorded like any
        accepted creep (the digest counts it), with no card; the date risk is the reply."""
        stored = self.store.request(asked, PLANNABLE, lambda _: [], self.clock())
        if stored is None or stored.id is None:
            self.triage.check(PLAN, asked.item_id, asked.requested_by)  # says why
            return None
        self.store.decide(stored.id, HandoffStatus.ACCEPTED, asked.requested_by, self.clock())
        decided = self.store.get(stored.id)
        assert decided is not None
        self.settle(decided)
        return self._outcome_note(decided, item, milestone, None)

    def _request(self, item: Item, handoff: Handoff, milestone: Milestone | None) -> str | None:
        """Store the handoff with its cards queued, then post them and mark the item's card."""
        assert item.id is not None
        item_id = item.id
        recipients = self.teams.routing(item.team_channel_id, Role.PROJECT).recipients

        def cards(stored: Handoff) -> list[tuple[Send, str]]:
            message = handoff_card(stored, item, milestone)
            return [(_card_send(stored, item_id, r, message), r) for r in recipients]

        stored = self.store.request(handoff, PLANNABLE, cards, self.clock())
        if stored is None:  # the same submission again, or the item changed meanwhile
            self.triage.check(PLAN, item_id, handoff.requested_by)  # says which
            return None
        message = handoff_card(stored, item, milestone)
        for recipient in recipients:
            self._send_card(stored, item_id, recipient, message)
        self.triage.cards.refresh(item)
        return None

    def hand_over(self, team_channel_id: str, holder: str) -> int:
        """A new project manager gets the card of each of the team's handoffs still waiting
        (they went to whoever held the role then, who may be gone), as it stands; keyed per
        handoff and recipient, so once. A queue channel has them already: only one that
        missed it is posted there. Returns how many were posted."""
        recipients = self.teams.routing(team_channel_id, Role.PROJECT).recipients
        to = [holder] if holder in recipients else recipients
        posted = 0
        for handoff in self.store.pending_in(team_channel_id):
            item = self.items.get(handoff.item_id)
            if item is None or item.id is None or not plannable(item):
                continue
            message = self.triage.cards.handoff_card(handoff, item)
            for recipient in to:
                posted += self._send_card(handoff, item.id, recipient, message).ts is not None
        return posted

    def _send_card(
        self, handoff: Handoff, item_id: int, recipient: str, message: Message
    ) -> Outcome:
        send = _card_send(handoff, item_id, recipient, message)
        return self.outbox.send([send], recipient, lambda _: message)

    # The project manager decides ------------------------------------------------------------

    def check_decision(self, handoff_id: int, actor_id: str, kind: HandoffKind) -> Handoff:
        """The pending handoff of this kind, if this person is a project manager of its team:
        `Refused` otherwise (`Decided` when it was decided already)."""
        handoff = self.store.get(handoff_id)
        item = self.items.get(handoff.item_id) if handoff is not None else None
        if handoff is None or item is None or handoff.kind is not kind:
            raise Refused(GONE)
        team = handoff.team_channel_id
        if actor_id not in self._deciders(team):
            raise Refused(f"Sorry, only the project manager of <#{team}> can decide this.")
        if handoff.status is not HandoffStatus.PENDING:
            raise Decided(handoff)
        if not plannable(item):
            raise Refused(
                f"#{item.id} was {unplannable(item)} by <@{item.handled_by}> meanwhile: nothing "
                "is left to plan."
            )
        return handoff

    def opened(self, handoff_id: int, actor_id: str, kind: HandoffKind) -> tuple[Handoff, Item]:
        """A card's button pressed: the pending handoff and its item. On a decided one, what its
        decision leads to is finished first (a process may have stopped half-way)."""
        handoff = self._decidable(handoff_id, actor_id, kind)
        item = self.items.get(handoff.item_id)
        assert item is not None
        return handoff, item

    def check_due(self, handoff: Handoff, due: date) -> None:
        today = self.planning.today(handoff.team_channel_id)
        if due < today:
            raise Unfit("due", "Pick a date from today on.")

    def accept_milestone(
        self, handoff_id: int, actor_id: str, due: date, owner_id: str | None
    ) -> None:
        """Create the proposed milestone (or take the open one that has its name by now) and
        plan the item into it."""
        handoff = self._decidable(handoff_id, actor_id, HandoffKind.NEW_MILESTONE)
        self.check_due(handoff, due)
        owner_tz = self.check_owner(owner_id) if owner_id is not None else None
        milestone = self._create(handoff, due, owner_id, owner_tz, actor_id)
        won = self.store.decide(
            handoff_id, HandoffStatus.ACCEPTED, actor_id, self.clock(), milestone_id=milestone.id
        )
        self._decided(handoff_id, won)

    def accept_creep(self, handoff_id: int, actor_id: str) -> None:
        """Let the item into the frozen milestone."""
        handoff = self._decidable(handoff_id, actor_id, HandoffKind.SCOPE_CREEP)
        frozen = self.store.milestone(handoff.milestone_id) if handoff.milestone_id else None
        if frozen is None or frozen.status is not WorkStatus.OPEN:
            raise Refused("That milestone is done: defer the item into another one instead.")
        won = self.store.decide(handoff_id, HandoffStatus.ACCEPTED, actor_id, self.clock())
        self._decided(handoff_id, won)

    def decline(self, handoff_id: int, actor_id: str, reason: str) -> None:
        """Refuse the proposed milestone: the item can be planned again."""
        self._decidable(handoff_id, actor_id, HandoffKind.NEW_MILESTONE)
        won = self.store.decide(
            handoff_id, HandoffStatus.DECLINED, actor_id, self.clock(), reason=reason
        )
        self._decided(handoff_id, won)

    def defer_targets(self, handoff: Handoff) -> tuple[Milestone | None, list[Milestone]]:
        """The frozen milestone, and the team's other open milestones to defer into."""
        frozen = self.store.milestone(handoff.milestone_id) if handoff.milestone_id else None
        others = [
            t.milestone
            for t in self.planning.store.tracked(handoff.team_channel_id)
            if t.milestone.id != handoff.milestone_id
        ]
        return frozen, others

    def check_target(self, handoff: Handoff, target: int | None) -> None:
        """`target` (None: the backlog) must be another open milestone of the team."""
        if target is None:
            return
        if target == handoff.milestone_id:
            raise Unfit("target", OTHER_TARGET)
        self._open_milestone(handoff.team_channel_id, target, field="target")

    def defer(self, handoff_id: int, actor_id: str, target: int | None, reason: str | None) -> None:
        """Plan the item elsewhere (`target`; None: the backlog) instead of the frozen one."""
        handoff = self._decidable(handoff_id, actor_id, HandoffKind.SCOPE_CREEP)
        self.check_target(handoff, target)
        won = self.store.decide(
            handoff_id,
            HandoffStatus.DEFERRED,
            actor_id,
            self.clock(),
            deferred_to=target,
            reason=reason,
        )
        self._decided(handoff_id, won)

    def settle(self, handoff: Handoff) -> None:
        """What a decision leads to, each part keyed or idempotent (so it may run again): the
        item planned (accepted, deferred) or its card freed (declined), the product manager
        told (not of a withdrawal: theirs, or a teammate's triage), every copy of the project
        manager's card showing the outcome, and the Homes of the product manager who asked and
        of the project managers (the milestone created, or the why of the one planned into)."""
        assert handoff.id is not None
        item = self.items.get(handoff.item_id)
        if item is None:
            return
        into = {
            HandoffStatus.ACCEPTED: handoff.milestone_id,
            HandoffStatus.DEFERRED: handoff.deferred_to,
        }
        if handoff.status in into and plannable(item):
            decision = Decision(milestone_id=into[handoff.status])
            planned = self.triage.apply(
                PLAN, handoff.item_id, handoff.requested_by, decision, authorized=True
            )
            item = planned.item or item
        else:
            self.triage.cards.refresh(item)
        told = handoff.decided_by != handoff.requested_by
        if told and handoff.status is not HandoffStatus.WITHDRAWN:
            milestone = self.store.milestone(handoff.milestone_id) if handoff.milestone_id else None
            deferred_to = self.store.milestone(handoff.deferred_to) if handoff.deferred_to else None
            text = self._outcome_note(handoff, item, milestone, deferred_to)
            key = f"handoff:{handoff.id}:{handoff.status.value}"
            self.notices.dm(key, handoff.requested_by, text, item.id)
        self.triage.cards.refresh_handoff(handoff, item)
        self.home.refresh_soon([handoff.requested_by, *self._deciders(handoff.team_channel_id)])

    def _outcome_note(
        self,
        handoff: Handoff,
        item: Item,
        milestone: Milestone | None,
        deferred_to: Milestone | None,
    ) -> str:
        if handoff.status is HandoffStatus.DECLINED:
            return declined_note(handoff, item)
        if handoff.status is HandoffStatus.DEFERRED:
            return deferred_note(handoff, item, milestone, deferred_to)
        assert milestone is not None and milestone.id is not None
        if handoff.kind is HandoffKind.NEW_MILESTONE:
            return accepted_note(handoff, item, milestone)
        added = self.store.accepted_creep(handoff.team_channel_id).get(milestone.id, 0)
        return creep_accepted_note(handoff, item, milestone, added)

    def _decidable(self, handoff_id: int, actor_id: str, kind: HandoffKind) -> Handoff:
        try:
            return self.check_decision(handoff_id, actor_id, kind)
        except Decided as decided:
            self.settle(decided.handoff)
            raise

    def _decided(self, handoff_id: int, won: bool) -> None:
        """After a decision was tried: settle it, and say who won if it was not this one."""
        decided = self.store.get(handoff_id)
        assert decided is not None
        self.settle(decided)
        if not won:
            raise Decided(decided)

    def _create(
        self,
        handoff: Handoff,
        due: date,
        owner_id: str | None,
        owner_tz: str | None,
        actor_id: str,
    ) -> Milestone:
        """The proposed milestone, created; or the team's open one of that name (created by
        someone meanwhile, or by this decision's first try)."""
        team, name = handoff.team_channel_id, handoff.name or ""
        now = self.clock()
        milestone = Milestone(
            team_channel_id=team,
            name=name,
            name_key=name_key(name),
            due_date=due,
            owner_id=owner_id,
            owner_tz=owner_tz,
            created_by=actor_id,
            created_at=now,
            scheduled_at=now,
        )
        if self.planning.store.add_milestone(milestone):
            return milestone
        existing = self.planning.store.milestone(team, name_key(name))
        if existing is None or existing.status is not WorkStatus.OPEN:
            raise Refused(
                f"A finished milestone of <#{team}> is called '{quoted_name(name, 80)}': "
                "decline, and ask for another name."
            )
        return existing

    def _open_milestone(
        self, team_channel_id: str, milestone_id: int | None, field: str = "milestone"
    ) -> Milestone:
        milestone = (
            self.planning.open_milestone(team_channel_id, milestone_id)
            if milestone_id is not None
            else None
        )
        if milestone is None:
            raise Unfit(field, "Pick one of this team's open milestones.")
        return milestone

    def _deciders(self, team_channel_id: str) -> list[str]:
        return self.teams.holders(team_channel_id, Role.PROJECT)


def _card_send(handoff: Handoff, item_id: int, recipient: str, message: Message) -> Send:
    """A proposal card as an outbox send: its message is stored, so a retry posts it as is."""
    key = CARD_KEY.format(id=handoff.id, recipient=recipient)
    return Send(key, SendKind.NOTICE, item_id, message.to_dict())
