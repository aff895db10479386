"""An item's card, its buttons, and what the reporter is told about it."""

from collections.abc import Sequence
from datetime import UTC, tzinfo

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from bot.blocks.common import (
    FALLBACK_PREVIEW,
    KIND_LABEL,
    ROLE_LABEL,
    SECTION_LIMIT,
    STATUS_LABEL,
    Message,
    context,
    day_label,
    plural,
    quoted_name,
    render_blocks,
    section,
)
from bot.blocks.handoff import milestone_label
from bot.clock import as_utc
from bot.mrkdwn import safe_mrkdwn
from bot.risks import how_picked, is_high
from bot.status import TRANSITIONS, available
from storage.items import QueuedItem
from storage.models import OPEN_STATUSES, Item, ItemKind, ItemStatus, Level, Milestone

ACTIONS_BLOCK_ID = "item_actions"
MERGE = "item_merge"  # merge into the item the card says this one looks like
# The reporter's Answer button (on a question asked by DM), and `Item.last_action` once they
# answered: the item is back in the queue with their answer as its `reason`.
ANSWER = "item_answer"


PLAN = TRANSITIONS["item_plan"]


def item_card(
    item: Item,
    votes: int = 0,
    similar: QueuedItem | None = None,
    *,
    actionable: bool = True,
    milestone: str | None = None,
    planned_into: Milestone | None = None,
    waiting: str | None = None,
    tz: tzinfo = UTC,
) -> Message:
    """The card a role holder triages from; its buttons follow the item's current status.
    `similar`: an open item this one looks like, offered for a one-click merge. Not
    `actionable`: a copy left with someone the item no longer goes to (it moved queue), which
    shows where it stands without buttons they could not use. `milestone`: the name of the
    open milestone a risk threatens. `planned_into`: the milestone feedback was planned into;
    `waiting`: what its planning waits for (the project manager's answer). `tz`: the team's
    time zone, whose day a snooze ends on."""
    longest_note = "\n_(shortened: Slack shows at most 3,000 characters here)_"
    reserved = len(f"\n<{item.permalink}|Read the full message>") if item.permalink else 0
    body, cut = safe_mrkdwn(item.text, SECTION_LIMIT - 200 - max(reserved, len(longest_note)))
    if item.title:
        body = f"*{quoted_name(item.title)}*\n{body}" if item.text != item.title else f"*{body}*"
    if item.permalink:
        body += f"\n<{item.permalink}|{'Read the full message' if cut else 'Source message'}>"
    elif cut:
        body += longest_note
    high = " · :rotating_light: *High risk*" if item.kind.is_risk and is_high(item) else ""
    facts = item_facts(item, votes)
    if milestone is not None:
        facts.insert(-1, f"threatens milestone *{safe_mrkdwn(milestone, 150)[0]}*")
    blocks: list[Block] = [
        section(
            f"*{KIND_LABEL[item.kind]}* for the {ROLE_LABEL[item.kind.owner_role]} "
            f"of <#{item.team_channel_id}>{high}",
            "item_kind",
        ),
        section(body, "item_text"),
        context(" · ".join(facts), "item_context"),
    ]
    picked = how_picked(item)
    if picked is not None and actionable and item.status in OPEN_STATUSES[item.kind]:
        blocks.append(context(_picked_note(picked.keyword), "item_risk_kind"))
    assigned = item.assignee_id is not None and not item.kind.is_risk  # a risk's owner: facts
    if item.status is not ItemStatus.OPEN or item.moved_from or assigned or answered(item):
        blocks.append(context(handled(item, planned_into, tz), "item_status"))
    if waiting:
        blocks.append(context(waiting, "item_waiting"))
    buttons = item_buttons(item) if actionable else []
    if waiting:  # Plan again is refused until the project manager answers: not offered
        buttons = [b for b in buttons if TRANSITIONS.get(b.action_id or "") is not PLAN]
    open_now = actionable and item.status in OPEN_STATUSES[item.kind]
    if similar is not None and open_now and item.kind is ItemKind.FEEDBACK:
        original = similar.item
        blocks.append(
            section(
                f"Looks like *#{original.id}* ({plural(similar.votes, '+1')}): "
                f"{safe_mrkdwn(original.title or original.text, 150)[0]}",
                "item_similar",
            )
        )
        buttons.insert(0, ButtonElement(text="Merge", action_id=MERGE, value=str(item.id)))
    if buttons:
        blocks.append(ActionsBlock(block_id=ACTIONS_BLOCK_ID, elements=buttons))
    preview = safe_mrkdwn(item.title or item.text, FALLBACK_PREVIEW)[0]
    fallback = f"{KIND_LABEL[item.kind]} from <@{item.reporter_id}>: {preview}"
    return Message(fallback, render_blocks(blocks))


def item_facts(item: Item, votes: int) -> list[str]:
    """Who raised it, where, for whom, how it weighs: the card's context line."""
    facts = [
        f"Raised by <@{item.reporter_id}> in <#{item.source_channel_id or item.team_channel_id}>"
    ]
    if item.author_id and item.author_id != item.reporter_id:
        facts.append(f"written by <@{item.author_id}>")
    if item.customer:
        facts.append(f"customer: {safe_mrkdwn(item.customer, 100)[0]}")
    if item.kind.is_risk:
        likelihood, impact = _level(item.likelihood), _level(item.impact)
        facts.append(f"likelihood {likelihood} \N{MULTIPLICATION SIGN} impact {impact}")
        if item.assignee_id:
            facts.append(f"owner: <@{item.assignee_id}>")
    elif item.impact:
        facts.append(f"impact: {item.impact.value}")
    if item.severity:
        facts.append(f"severity: {item.severity.value}")
    if votes:
        facts.append(f"+{votes}")
    facts.extend(f"#{tag}" for tag in item.tags.split()[:5])
    facts.append(f"#{item.id}")
    return facts


def _level(level: Level | None) -> str:
    return level.value if level else "not set"


def kind_noun(kind: ItemKind) -> str:
    """ "feedback", "blocker", "market risk": an item's kind inside a sentence."""
    return KIND_LABEL[kind].split(" ", 1)[1].lower()


def unplannable(item: Item) -> str:
    """What became of feedback that can no longer be planned: "declined", "moved to the
    blocker queue"."""
    if item.kind is not ItemKind.FEEDBACK:
        return f"moved to the {kind_noun(item.kind)} queue"
    return STATUS_LABEL[item.status].lower()


def _picked_note(keyword: str | None) -> str:
    """How the rule picked a risk's kind (`bot.risks`): its owners may move it if it is wrong."""
    why = f"from the word *{keyword}*" if keyword else "by default (no keyword in the text)"
    return f"Kind picked {why}: move it to the other manager if it is theirs."


def handled(item: Item, planned_into: Milestone | None = None, tz: tzinfo = UTC) -> str:
    """Where the item stands and who put it there (and for which milestone), with what they
    said. A snooze ends on a day in the team's time zone (`tz`): the day that was picked."""
    who = f"<@{item.handled_by}>"
    if item.status is ItemStatus.DUPLICATE and item.duplicate_of:
        text = f"*Merged into #{item.duplicate_of}* by {who}"
    elif item.status is ItemStatus.SNOOZED and item.snoozed_until:
        until = as_utc(item.snoozed_until).astimezone(tz).date()
        text = f"*Snoozed* until {day_label(until)} by {who}"
    elif answered(item):
        text = f"*Answer* from <@{item.reporter_id}>: {safe_mrkdwn(item.reason or '', 500)[0]}"
    elif item.status is ItemStatus.OPEN and item.moved_from:
        text = f"*Moved to the {kind_noun(item.kind)} queue* by {who}"
    elif item.status is ItemStatus.OPEN:
        text = ""
    else:
        text = f"*{STATUS_LABEL[item.status]}* by {who}{_for(item, planned_into)}"
    if item.assignee_id and item.status in OPEN_STATUSES[item.kind] and not item.kind.is_risk:
        text += f"{' · ' if text else ''}assigned to <@{item.assignee_id}>"
    if item.reason and not answered(item):
        label = "asked" if item.status is ItemStatus.NEEDS_INFO else "reason"
        text += f"\n_{label}:_ {safe_mrkdwn(item.reason, 500)[0]}"
    return text or f"*{STATUS_LABEL[item.status]}*"


def answered(item: Item) -> bool:
    """Back in the queue by its reporter's answer to the owner's question (`reason`)."""
    return item.status is ItemStatus.OPEN and item.last_action == ANSWER


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
    if item.kind.is_risk:
        picked = how_picked(item)
        why = ""
        if picked is not None:
            why = f" (from the word *{picked.keyword}*)" if picked.keyword else " (by default)"
        noun = kind_noun(item.kind)
        where += f" as {'an' if noun.startswith('o') else 'a'} {noun}{why}"
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


def moved_unowned(item: Item) -> str:
    """For whoever moved the item to a role nobody holds (nor has a queue channel for): its
    cards went nowhere, so nobody has it until someone takes the role."""
    role = item.kind.owner_role
    return (
        f"Moved to the {kind_noun(item.kind)} queue, but nobody in <#{item.team_channel_id}> "
        f"is the {ROLE_LABEL[role]} yet: it waits there until someone takes the role "
        f"(`/role @person {role.value}`)."
    )


def already_filed(item: Item, counted_vote: bool, *, merged: bool = False) -> str:
    """For someone raising a message already queued as `item`, or (`merged`) whose own item
    was merged into `item`: named, since that is the one whose closing they hear of."""
    where = f"<#{item.team_channel_id}>'s {ROLE_LABEL[item.kind.owner_role]} queue"
    text = f"That message is already in {where}"
    if merged:
        text = f"That message was merged into #{item.id} in {where}"
    if counted_vote:
        return f"{text}; I counted your +1{' there' if merged else ''}."
    return f"{text}."


def linked(milestone_name: str, at_risk: bool = True) -> str:
    """`at_risk`: the item puts the milestone at risk (a blocker, a high risk)."""
    name = safe_mrkdwn(milestone_name, 150)[0]
    return f" Linked to milestone *{name}*" + (", which is now at risk." if at_risk else ".")


def reporter_update(
    item: Item,
    *,
    in_thread: bool = False,
    planned_into: Milestone | None = None,
    unowned: bool = False,
) -> str:
    """The closing of the loop: what happened to what you raised (and the milestone it was
    `planned_into`), and what the owner said. In the source thread it names the reporter
    (everyone there sees it). `unowned`: moved to a role nobody holds, so nobody has it yet."""
    who = f"<@{item.handled_by}>"
    what = f"The {kind_noun(item.kind)} you raised in <#{item.team_channel_id}>"
    if item.status is ItemStatus.MITIGATING:
        text = f"{who} is mitigating {what[0].lower()}{what[1:]}."
    elif item.status is ItemStatus.NEEDS_INFO:
        answer = "reply here" if in_thread else "press *Answer*"
        text = f"{who} needs more on the {item.kind.value} you raised: {answer}."
    elif item.status is ItemStatus.DUPLICATE:
        text = (
            f"{what} was merged into #{item.duplicate_of} by {who}: your +1 counts there, and "
            "you'll hear when it's closed."
        )
    elif item.status is ItemStatus.OPEN and item.moved_from:
        raised = f"The {kind_noun(item.moved_from)} you raised in <#{item.team_channel_id}>"
        role = ROLE_LABEL[item.kind.owner_role]
        holder = (
            f"it waits there until <#{item.team_channel_id}> has a {role}"
            if unowned
            else f"the {role} has it now"
        )
        text = f"{raised} was moved to the {kind_noun(item.kind)} queue by {who}: {holder}."
    else:
        text = f"{what} was {STATUS_LABEL[item.status].lower()} by {who}{_for(item, planned_into)}."
    if not item.reason and text.endswith("."):
        text = text[:-1] + ":"
    return (f"<@{item.reporter_id}> " if in_thread else "") + text + _said(item)


def reporter_message(
    item: Item,
    *,
    in_thread: bool = False,
    planned_into: Milestone | None = None,
    unowned: bool = False,
) -> Message:
    """`reporter_update` as a message: a question asked by DM carries the Answer button (there
    is no thread to reply in)."""
    text = reporter_update(item, in_thread=in_thread, planned_into=planned_into, unowned=unowned)
    if in_thread or item.status is not ItemStatus.NEEDS_INFO:
        return Message(text, [])
    button = ButtonElement(text="Answer", action_id=ANSWER, value=str(item.id), style="primary")
    return Message(text, render_blocks([section(text), ActionsBlock(elements=[button])]))


def answer_heard(item: Item, *, asked: bool = True) -> str:
    """For the owner who asked (`asked`), or who owns the item now: the reporter's answer,
    and the item it brought back."""
    question = "your question" if asked else "the question asked"
    text = (
        f"<@{item.reporter_id}> answered {question} on #{item.id} in "
        f"<#{item.team_channel_id}>: it is back in the queue."
    )
    return text + _said(item)


def voter_update(item: Item, planned_into: Milestone | None = None) -> str:
    """For everyone who +1'd it (merged duplicates included)."""
    text = (
        f"Something you +1'd in <#{item.team_channel_id}> was "
        f"{STATUS_LABEL[item.status].lower()} by <@{item.handled_by}>{_for(item, planned_into)}."
    )
    return (text if item.reason else text[:-1] + ":") + _said(item)


def _for(item: Item, planned_into: Milestone | None) -> str:
    """` for *Public beta* (due Mon 2 Feb 2027)`: where planned feedback goes."""
    if item.status is not ItemStatus.PLANNED or planned_into is None:
        return ""
    return f" for {milestone_label(planned_into)}"


def _said(item: Item) -> str:
    """What the owner said (if anything; the reporter's answer, once answered), then the item
    quoted: `text` ends a sentence."""
    label = {ItemStatus.NEEDS_INFO: "Question", ItemStatus.DECLINED: "Reason"}.get(
        item.status, "Answer" if answered(item) else "Note"
    )
    preview = safe_mrkdwn(item.title or item.text, FALLBACK_PREVIEW)[0]
    source = f" (<{item.permalink}|source>)" if item.permalink else ""
    quoted = f">{preview.replace(chr(10), chr(10) + '>')}{source}"
    if not item.reason:
        return f"\n{quoted}"
    return f"\n*{label}:* {safe_mrkdwn(item.reason, 1000)[0]}\n{quoted}"
