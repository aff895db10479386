"""An item's card, its buttons, and what the reporter is told about it."""

from collections.abc import Sequence

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from bot.blocks.common import (
    FALLBACK_PREVIEW,
    KIND_LABEL,
    ROLE_LABEL,
    SECTION_LIMIT,
    STATUS_LABEL,
    Message,
    context,
    render_blocks,
    section,
)
from bot.mrkdwn import safe_mrkdwn
from bot.status import available
from storage.models import Item, ItemStatus

ACTIONS_BLOCK_ID = "item_actions"


def item_card(item: Item, votes: int = 0) -> Message:
    """The card a role holder triages from; its buttons follow the item's current status."""
    longest_note = "\n_(shortened: Slack shows at most 3,000 characters here)_"
    reserved = len(f"\n<{item.permalink}|Read the full message>") if item.permalink else 0
    body, cut = safe_mrkdwn(item.text, SECTION_LIMIT - max(reserved, len(longest_note)))
    if item.permalink:
        body += f"\n<{item.permalink}|{'Read the full message' if cut else 'Source message'}>"
    elif cut:
        body += longest_note
    facts = [
        f"Raised by <@{item.reporter_id}> in <#{item.source_channel_id or item.team_channel_id}>"
    ]
    if item.author_id and item.author_id != item.reporter_id:
        facts.append(f"written by <@{item.author_id}>")
    if votes:
        facts.append(f"+{votes}")
    facts.append(f"#{item.id}")
    blocks: list[Block] = [
        section(
            f"*{KIND_LABEL[item.kind]}* for the {ROLE_LABEL[item.kind.owner_role]} "
            f"of <#{item.team_channel_id}>",
            "item_kind",
        ),
        section(body, "item_text"),
        context(" · ".join(facts), "item_context"),
    ]
    if item.status is not ItemStatus.OPEN:
        blocks.append(context(handled(item), "item_status"))
    buttons = item_buttons(item)
    if buttons:
        blocks.append(ActionsBlock(block_id=ACTIONS_BLOCK_ID, elements=buttons))
    preview = safe_mrkdwn(item.text, FALLBACK_PREVIEW)[0]
    fallback = f"{KIND_LABEL[item.kind]} from <@{item.reporter_id}>: {preview}"
    return Message(fallback, render_blocks(blocks))


def handled(item: Item) -> str:
    return f"*{STATUS_LABEL[item.status]}* by <@{item.handled_by}>"


def item_buttons(item: Item) -> list[ButtonElement]:
    """The triage buttons that still apply to the item in its current status."""
    return [
        ButtonElement(text=t.label, action_id=t.action_id, value=str(item.id), style=t.style)
        for t in available(item)
    ]


def filed_confirmation(item: Item, holders: Sequence[str], queue_channel: str | None) -> str:
    """What the reporter sees right after raising something."""
    role = ROLE_LABEL[item.kind.owner_role]
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
            f"{item.kind.owner_role.value}`)."
        )
    names = ", ".join(f"<@{user}>" for user in holders)
    return f"Filed in {where} and sent to {names}. You'll hear back when it's handled."


def already_filed(item: Item, counted_vote: bool) -> str:
    where = f"<#{item.team_channel_id}>'s {ROLE_LABEL[item.kind.owner_role]} queue"
    if counted_vote:
        return f"That message is already in {where}; I counted your +1."
    return f"That message is already in {where}."


def linked(milestone_name: str) -> str:
    return f" Linked to milestone *{safe_mrkdwn(milestone_name, 150)[0]}*, which is now at risk."


def reporter_update(item: Item) -> str:
    """The closing of the loop: what happened to what you raised."""
    status = STATUS_LABEL[item.status].lower()
    preview = safe_mrkdwn(item.text, FALLBACK_PREVIEW)[0]
    source = f" (<{item.permalink}|source>)" if item.permalink else ""
    return (
        f"The {item.kind.value} you raised in <#{item.team_channel_id}> was {status} by "
        f"<@{item.handled_by}>{source}:\n>{preview.replace(chr(10), chr(10) + '>')}"
    )
