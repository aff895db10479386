"""The triage machine, as one table: each button, the kind of item it applies to, the statuses
it may move an item from, where it moves it, what it asks the owner first, and what the person
who raised the item hears.

The role that may press a button is always the one that owns the item's kind when it is
pressed (`Transition.role`): the product manager for feedback and market risks, the project
manager for blockers and operational risks.
"""

from dataclasses import dataclass
from enum import StrEnum

from storage.models import OPEN_STATUSES, Item, ItemKind, ItemStatus, Role


class Ask(StrEnum):
    """What the owner is asked (in a modal) before the transition applies."""

    NOTHING = "nothing"  # one click
    REASON = "reason"  # required: the reporter hears it
    NOTE = "note"  # optional: the reporter hears it when given
    QUESTION = "question"  # required: asked of the reporter
    ORIGINAL = "original"  # the item this one duplicates
    UNTIL = "until"  # the day the item comes back
    HOLDER = "holder"  # another holder of the role
    MILESTONE = "milestone"  # the milestone to plan into, or a new one to propose
    OWNER = "owner"  # the person who owns it (a risk's owner): anyone, not only a role holder


class Hears(StrEnum):
    """Who is told, and where: the reporter in the source thread (else by DM)."""

    NOBODY = "nobody"
    REPORTER = "reporter"  # the reporter
    EVERYONE = "everyone"  # the reporter and every +1 (merged reporters included)


@dataclass(frozen=True)
class Transition:
    action_id: str
    label: str
    kind: ItemKind
    allowed_from: tuple[ItemStatus, ...]
    to: ItemStatus | None  # None: the status stays (a reassignment)
    ask: Ask = Ask.NOTHING
    hears: Hears = Hears.REPORTER
    moves_to: ItemKind | None = None  # a re-route: the item changes queue and owner
    style: str | None = None

    @property
    def role(self) -> Role:
        return self.kind.owner_role


_FEEDBACK_WAITING = (ItemStatus.OPEN, ItemStatus.NEEDS_INFO, ItemStatus.SNOOZED)
_BLOCKER_OPEN = OPEN_STATUSES[ItemKind.BLOCKER]
FEEDBACK, BLOCKER = ItemKind.FEEDBACK, ItemKind.BLOCKER
MARKET_RISK, OPERATIONAL_RISK = ItemKind.MARKET_RISK, ItemKind.OPERATIONAL_RISK


def _risk_rows(kind: ItemKind) -> tuple[Transition, ...]:
    """The same buttons for both kinds of risk (`risk_<button>_market|operational`), each
    pressed by its kind's owner; a move hands the risk to the other role."""
    name = kind.value.removesuffix("_risk")
    other = OPERATIONAL_RISK if kind is MARKET_RISK else MARKET_RISK
    to_other = "the project manager" if other is OPERATIONAL_RISK else "the product manager"
    still_open = OPEN_STATUSES[kind]
    done = (ItemStatus.ACCEPTED, ItemStatus.CLOSED)
    return (
        Transition(
            f"risk_mitigate_{name}",
            "Mitigating",
            kind,
            (ItemStatus.OPEN,),
            ItemStatus.MITIGATING,
            style="primary",
        ),
        Transition(
            f"risk_accept_{name}", "Accept risk", kind, still_open, ItemStatus.ACCEPTED, Ask.NOTE
        ),
        Transition(f"risk_close_{name}", "Close", kind, still_open, ItemStatus.CLOSED, Ask.NOTE),
        Transition(
            f"risk_reopen_{name}", "Reopen", kind, done, ItemStatus.OPEN, hears=Hears.NOBODY
        ),
        Transition(
            f"risk_move_{name}",
            f"Move to {to_other}",
            kind,
            still_open,
            ItemStatus.OPEN,
            moves_to=other,
        ),
        Transition(
            f"risk_owner_{name}", "Set owner", kind, still_open, None, Ask.OWNER, Hears.NOBODY
        ),
    )


TRANSITIONS: dict[str, Transition] = {
    t.action_id: t
    for t in (
        Transition(
            "item_plan",
            "Plan",
            FEEDBACK,
            _FEEDBACK_WAITING,
            ItemStatus.PLANNED,
            Ask.MILESTONE,
            Hears.EVERYONE,
            style="primary",
        ),
        Transition(
            "item_decline",
            "Decline",
            FEEDBACK,
            _FEEDBACK_WAITING,
            ItemStatus.DECLINED,
            Ask.REASON,
            Hears.EVERYONE,
            style="danger",
        ),
        Transition(
            "item_duplicate",
            "Duplicate",
            FEEDBACK,
            _FEEDBACK_WAITING,
            ItemStatus.DUPLICATE,
            Ask.ORIGINAL,
        ),
        Transition(
            "item_needs_info",
            "Needs info",
            FEEDBACK,
            (ItemStatus.OPEN, ItemStatus.SNOOZED),
            ItemStatus.NEEDS_INFO,
            Ask.QUESTION,
        ),
        Transition(
            "item_snooze",
            "Snooze",
            FEEDBACK,
            (ItemStatus.OPEN, ItemStatus.NEEDS_INFO),
            ItemStatus.SNOOZED,
            Ask.UNTIL,
            Hears.NOBODY,
        ),
        Transition(
            "item_reopen",
            "Back to queue",
            FEEDBACK,
            (ItemStatus.NEEDS_INFO, ItemStatus.SNOOZED),
            ItemStatus.OPEN,
            hears=Hears.NOBODY,
        ),
        Transition(
            "item_to_blockers",
            "Move to blockers",
            FEEDBACK,
            _FEEDBACK_WAITING,
            ItemStatus.OPEN,
            moves_to=BLOCKER,
        ),
        Transition(
            "item_acknowledge",
            "Acknowledge",
            BLOCKER,
            (ItemStatus.OPEN,),
            ItemStatus.ACKNOWLEDGED,
            style="primary",
        ),
        Transition(
            "item_resolve",
            "Resolve",
            BLOCKER,
            _BLOCKER_OPEN,
            ItemStatus.RESOLVED,
            Ask.NOTE,
            Hears.EVERYONE,
        ),
        Transition(
            "item_to_feedback",
            "Move to feedback",
            BLOCKER,
            _BLOCKER_OPEN,
            ItemStatus.OPEN,
            moves_to=FEEDBACK,
        ),
        Transition(
            "item_reassign",
            "Reassign",
            BLOCKER,
            _BLOCKER_OPEN,
            None,
            Ask.HOLDER,
            Hears.NOBODY,
        ),
        *_risk_rows(MARKET_RISK),
        *_risk_rows(OPERATIONAL_RISK),
    )
}


def available(item: Item) -> list[Transition]:
    """The transitions that still apply to the item in its current status."""
    return [
        t for t in TRANSITIONS.values() if t.kind is item.kind and item.status in t.allowed_from
    ]


# The buttons whose change the reporter hears of, and those that re-route an item (their
# notices and new cards are recovered by the time loop when a process stops half-way).
HEARD = [t.action_id for t in TRANSITIONS.values() if t.hears is not Hears.NOBODY]
MOVES = [t.action_id for t in TRANSITIONS.values() if t.moves_to is not None]
WAKE = "wake"  # not a button: a snoozed item's day came (`Item.last_action`)
