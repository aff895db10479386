"""Block Kit for everything Rolecall posts. Pure functions: data in, JSON-ready dicts out.

slack_sdk's Block Kit models validate Slack's limits when serialised, so a builder that would
produce `invalid_blocks` fails in the unit tests instead of in a workspace.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.schedule import WEEKDAYS
from bot.text import safe_mrkdwn
from storage.models import Item, ItemKind, ItemStatus, Role, RoleAssignment, TeamSettings
from storage.store import QueuedItem

SECTION_LIMIT = 3000
FALLBACK_PREVIEW = 300
MAX_LISTED_ITEMS = 20
ACTIONS_BLOCK_ID = "item_actions"

KIND_LABEL = {ItemKind.FEEDBACK: ":bulb: Feedback", ItemKind.BLOCKER: ":no_entry: Blocker"}
ROLE_LABEL = {Role.PRODUCT: "product manager", Role.PROJECT: "project manager"}
STATUS_LABEL = {
    ItemStatus.OPEN: "Open",
    ItemStatus.ACKNOWLEDGED: "Acknowledged",
    ItemStatus.RESOLVED: "Resolved",
    ItemStatus.PLANNED: "Planned",
    ItemStatus.DECLINED: "Declined",
    ItemStatus.DUPLICATE: "Marked duplicate",
}


@dataclass(frozen=True)
class TriageAction:
    """A card button: which kind it applies to, the statuses it moves from, and where to."""

    action_id: str
    label: str
    kind: ItemKind
    allowed_from: tuple[ItemStatus, ...]
    to: ItemStatus
    style: str | None = None


TRIAGE_ACTIONS: dict[str, TriageAction] = {
    a.action_id: a
    for a in (
        TriageAction(
            "item_plan",
            "Plan",
            ItemKind.FEEDBACK,
            (ItemStatus.OPEN,),
            ItemStatus.PLANNED,
            "primary",
        ),
        TriageAction(
            "item_decline",
            "Decline",
            ItemKind.FEEDBACK,
            (ItemStatus.OPEN,),
            ItemStatus.DECLINED,
            "danger",
        ),
        TriageAction(
            "item_duplicate",
            "Duplicate",
            ItemKind.FEEDBACK,
            (ItemStatus.OPEN,),
            ItemStatus.DUPLICATE,
        ),
        TriageAction(
            "item_acknowledge",
            "Acknowledge",
            ItemKind.BLOCKER,
            (ItemStatus.OPEN,),
            ItemStatus.ACKNOWLEDGED,
            "primary",
        ),
        TriageAction(
            "item_resolve",
            "Resolve",
            ItemKind.BLOCKER,
            (ItemStatus.OPEN, ItemStatus.ACKNOWLEDGED),
            ItemStatus.RESOLVED,
        ),
    )
}


@dataclass(frozen=True)
class Message:
    """A message body: mrkdwn fallback text plus blocks."""

    text: str
    blocks: list[dict[str, Any]]


def render_blocks(blocks: Sequence[Block]) -> list[dict[str, Any]]:
    return [block.to_dict() for block in blocks]


def item_card(item: Item, votes: int = 0) -> Message:
    """The card a role holder triages from; its buttons follow the item's current status."""
    kind = ItemKind(item.kind)
    status = ItemStatus(item.status)
    longest_note = "\n_(shortened: Slack shows at most 3,000 characters here)_"
    reserved = len(f"\n<{item.permalink}|Read the full message>") if item.permalink else 0
    body, cut = safe_mrkdwn(item.text, SECTION_LIMIT - max(reserved, len(longest_note)))
    if item.permalink:
        body += f"\n<{item.permalink}|{'Read the full message' if cut else 'Source message'}>"
    elif cut:
        body += longest_note
    context = [
        f"Raised by <@{item.reporter_id}> in <#{item.source_channel_id or item.team_channel_id}>"
    ]
    if item.author_id and item.author_id != item.reporter_id:
        context.append(f"written by <@{item.author_id}>")
    if votes:
        context.append(f"+{votes}")
    context.append(f"#{item.id}")
    blocks: list[Block] = [
        SectionBlock(
            block_id="item_kind",
            text=MarkdownTextObject(
                text=f"*{KIND_LABEL[kind]}* for the {ROLE_LABEL[kind.owner_role]} "
                f"of <#{item.team_channel_id}>"
            ),
        ),
        SectionBlock(block_id="item_text", text=MarkdownTextObject(text=body)),
        ContextBlock(
            block_id="item_context", elements=[MarkdownTextObject(text=" · ".join(context))]
        ),
    ]
    buttons = item_buttons(item)
    if status is not ItemStatus.OPEN:
        blocks.append(
            ContextBlock(
                block_id="item_status",
                elements=[
                    MarkdownTextObject(text=f"*{STATUS_LABEL[status]}* by <@{item.handled_by}>")
                ],
            )
        )
    if buttons:
        blocks.append(ActionsBlock(block_id=ACTIONS_BLOCK_ID, elements=buttons))
    preview = safe_mrkdwn(item.text, FALLBACK_PREVIEW)[0]
    fallback = f"{KIND_LABEL[kind]} from <@{item.reporter_id}>: {preview}"
    return Message(fallback, render_blocks(blocks))


def item_buttons(item: Item) -> list[ButtonElement]:
    """The triage buttons that still apply to the item in its current status."""
    kind, status = ItemKind(item.kind), ItemStatus(item.status)
    return [
        ButtonElement(
            text=action.label, action_id=action.action_id, value=str(item.id), style=action.style
        )
        for action in TRIAGE_ACTIONS.values()
        if action.kind == kind and status in action.allowed_from
    ]


def filed_confirmation(item: Item, holders: Sequence[str], queue_channel: str | None) -> str:
    """What the reporter sees right after raising something."""
    kind = ItemKind(item.kind)
    role = ROLE_LABEL[kind.owner_role]
    where = f"<#{item.team_channel_id}>'s {role} queue"
    if queue_channel:
        return (
            f"Filed in {where}; the card is in <#{queue_channel}>. "
            "You'll hear back when it's handled."
        )
    if not holders:
        return (
            f"Filed in {where}, but nobody in <#{item.team_channel_id}> is the {role} yet. "
            f"It waits there until someone takes the role (`/role @person "
            f"{kind.owner_role.value}`)."
        )
    names = ", ".join(f"<@{user}>" for user in holders)
    return f"Filed in {where} and sent to {names}. You'll hear back when it's handled."


def already_filed(item: Item, counted_vote: bool) -> str:
    kind = ItemKind(item.kind)
    where = f"<#{item.team_channel_id}>'s {ROLE_LABEL[kind.owner_role]} queue"
    if counted_vote:
        return f"That message is already in {where}; I counted your +1."
    return f"That message is already in {where}."


def reporter_update(item: Item) -> str:
    """The closing of the loop: what happened to what you raised."""
    kind = ItemKind(item.kind)
    status = STATUS_LABEL[ItemStatus(item.status)].lower()
    preview = safe_mrkdwn(item.text, FALLBACK_PREVIEW)[0]
    source = f" (<{item.permalink}|source>)" if item.permalink else ""
    return (
        f"The {kind.value} you raised in <#{item.team_channel_id}> was {status} by "
        f"<@{item.handled_by}>{source}:\n>{preview.replace(chr(10), chr(10) + '>')}"
    )


def roles_summary(channel_id: str, assignments: Sequence[RoleAssignment]) -> str:
    if not assignments:
        return (
            f"<#{channel_id}> has no roles yet. Start with `/role @person product` "
            "and `/role @person project`."
        )
    lines = [f"Roles in <#{channel_id}>:"]
    for role in Role:
        people = [f"<@{a.user_id}>" for a in assignments if a.role == role]
        lines.append(f"• {ROLE_LABEL[role]}: {', '.join(people) or '_nobody yet_'}")
    return "\n".join(lines)


def settings_summary(settings: TeamSettings) -> str:
    def queue(channel: str | None) -> str:
        return f"<#{channel}>" if channel else "DMs to the role holders"

    return "\n".join(
        [
            f"Settings for <#{settings.channel_id}>:",
            f"• feedback reaction: :{settings.feedback_emoji}:",
            f"• blocker reaction: :{settings.blocker_emoji}:",
            f"• product cards go to: {queue(settings.product_queue_channel)}",
            f"• project cards go to: {queue(settings.project_queue_channel)}",
            f"• time zone: {settings.timezone}",
            f"• weekly digest: {WEEKDAYS[settings.digest_weekday].title()} "
            f"{settings.digest_hour:02d}:{settings.digest_minute:02d}",
            f"• unacknowledged blockers escalate after {settings.escalation_hours} working hours",
        ]
    )


def queue_list(channel_id: str, kind: ItemKind, queued: Sequence[QueuedItem]) -> Message:
    """The open queue, newest work last; long queues are summarised to stay within 50 blocks."""
    title = f"Open {kind.value} items"
    intro = f"{len(queued)} open in <#{channel_id}>'s {ROLE_LABEL[kind.owner_role]} queue."
    if not queued:
        intro = f"Nothing open in <#{channel_id}>'s {ROLE_LABEL[kind.owner_role]} queue."
    blocks: list[Block] = [
        HeaderBlock(text=title),
        SectionBlock(text=MarkdownTextObject(text=intro)),
    ]
    for entry in queued[:MAX_LISTED_ITEMS]:
        item = entry.item
        text, _ = safe_mrkdwn(item.text, 500)
        link = f" · <{item.permalink}|source>" if item.permalink else ""
        votes = f" · +{entry.votes}" if entry.votes else ""
        status = "" if item.status == ItemStatus.OPEN else f" · {item.status}"
        blocks.append(DividerBlock())
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"*#{item.id}* {text}\n_by <@{item.reporter_id}>{votes}{status}{link}_"
                )
            )
        )
    hidden = len(queued) - MAX_LISTED_ITEMS
    if hidden > 0:
        blocks.append(
            ContextBlock(elements=[MarkdownTextObject(text=f"…and {hidden} more not shown.")])
        )
    return Message(intro, render_blocks(blocks))


def home_view(user_id: str, assignments: Sequence[RoleAssignment]) -> dict[str, Any]:
    """App Home: which roles you hold where, and how to use Rolecall."""
    mine = (
        "\n".join(f"• {ROLE_LABEL[Role(a.role)]} in <#{a.channel_id}>" for a in assignments)
        or "You hold no roles yet."
    )
    blocks: list[Block] = [
        HeaderBlock(text="Rolecall"),
        SectionBlock(
            text=MarkdownTextObject(
                text="Feedback goes to the *product manager*, blockers to the *project manager*. "
                "Raise one with `/feedback …`, `/blocker …`, a `feedback:` or `blocker:` message, "
                "or by reacting with :bulb: or :no_entry:."
            )
        ),
        DividerBlock(),
        SectionBlock(text=MarkdownTextObject(text=f"*Your roles, <@{user_id}>*\n{mine}")),
    ]
    return {"type": "home", "blocks": render_blocks(blocks)}
