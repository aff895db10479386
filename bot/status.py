"""The item status machine, as one table: each triage button, the kind it applies to, the
statuses it may move an item from, and the status it moves it to."""

from dataclasses import dataclass

from storage.models import Item, ItemKind, ItemStatus


@dataclass(frozen=True)
class Transition:
    action_id: str
    label: str
    kind: ItemKind
    allowed_from: tuple[ItemStatus, ...]
    to: ItemStatus
    style: str | None = None


TRANSITIONS: dict[str, Transition] = {
    t.action_id: t
    for t in (
        Transition(
            "item_plan",
            "Plan",
            ItemKind.FEEDBACK,
            (ItemStatus.OPEN,),
            ItemStatus.PLANNED,
            "primary",
        ),
        Transition(
            "item_decline",
            "Decline",
            ItemKind.FEEDBACK,
            (ItemStatus.OPEN,),
            ItemStatus.DECLINED,
            "danger",
        ),
        Transition(
            "item_duplicate",
            "Duplicate",
            ItemKind.FEEDBACK,
            (ItemStatus.OPEN,),
            ItemStatus.DUPLICATE,
        ),
        Transition(
            "item_acknowledge",
            "Acknowledge",
            ItemKind.BLOCKER,
            (ItemStatus.OPEN,),
            ItemStatus.ACKNOWLEDGED,
            "primary",
        ),
        Transition(
            "item_resolve",
            "Resolve",
            ItemKind.BLOCKER,
            (ItemStatus.OPEN, ItemStatus.ACKNOWLEDGED),
            ItemStatus.RESOLVED,
        ),
    )
}


def available(item: Item) -> list[Transition]:
    """The transitions that still apply to the item in its current status."""
    return [
        t for t in TRANSITIONS.values() if t.kind is item.kind and item.status in t.allowed_from
    ]
