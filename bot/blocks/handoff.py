"""Planning as a handoff: the Plan modal, the project manager's proposal and scope creep cards,
their modals, and what each side is told."""

import json
from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    DatePickerElement,
    ExternalDataSelectElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
    UserSelectElement,
)

from bot.blocks.common import (
    FALLBACK_PREVIEW,
    Message,
    context,
    day_label,
    plural,
    quoted_name,
    render_blocks,
    section,
)
from bot.mrkdwn import ELLIPSIS, safe_mrkdwn
from storage.models import Handoff, HandoffKind, HandoffStatus, Item, Milestone

PLAN = "plan"  # the Plan modal's callback id
PICK_PLAN_MILESTONE = "plan_milestone"  # its external_select of the team's open milestones
# Buttons: accepting a proposed milestone opens a modal (its date), accepting scope creep not.
ACCEPT_MILESTONE, ACCEPT_CREEP = "handoff_accept_milestone", "handoff_accept_creep"
DECLINE, DEFER = "handoff_decline", "handoff_defer"  # buttons, and the modals they open
ACCEPT = "handoff_accept"  # the modal of a proposed milestone's Accept
ACTIONS_BLOCK_ID = "handoff_actions"
BACKLOG = "backlog"  # the defer modal's option for "no milestone"
NAME_LIMIT = 150  # a milestone's name, as `/milestone add` takes it
REASON_LIMIT = 2000
OPTIONS_LIMIT = 100  # Slack's most for a static_select
OPTION_TEXT_LIMIT = 75  # Slack's most for an option's text


def item_label(item: Item) -> str:
    """`#12 'Export to CSV'`: the item as the project manager reads it, on one line."""
    preview = safe_mrkdwn(" ".join((item.title or item.text).split()), 150)[0]
    return f"#{item.id} '{preview}'"


def milestone_label(milestone: Milestone) -> str:
    return f"*{quoted_name(milestone.name)}* (due {day_label(milestone.due_date)})"


def milestone_option(milestone: Milestone, frozen: bool = False) -> str:
    """A milestone as a menu option, "Public beta (due 2026-12-14, scope frozen)": a long name
    is shortened, never the date or the freeze, which are what the choice turns on."""
    suffix = f" (due {milestone.due_date}{', scope frozen' if frozen else ''})"
    room = OPTION_TEXT_LIMIT - len(suffix)
    name = " ".join(milestone.name.split())
    if len(name) > room:
        name = name[: room - len(ELLIPSIS)].rstrip() + ELLIPSIS
    return name + suffix


def withdrawn(handoff: Handoff) -> str:
    """Why a handoff was withdrawn: "#12 was declined by @alice"."""
    what = safe_mrkdwn(handoff.reason or "triaged", 100)[0]
    return f"#{handoff.item_id} was {what} by <@{handoff.decided_by}>"


def waiting_note(handoff: Handoff, milestone: Milestone | None) -> str:
    """What an item's card says while its handoff waits for the project manager."""
    who = f"<@{handoff.requested_by}>"
    if handoff.kind is HandoffKind.NEW_MILESTONE:
        return (
            f"Waiting for the project manager: new milestone *{quoted_name(handoff.name or '')}* "
            f"proposed by {who}"
        )
    name = quoted_name(milestone.name) if milestone else "a milestone"
    frozen = (
        f" (frozen since {day_label(milestone.freeze_date)})"
        if milestone and milestone.freeze_date
        else ""
    )
    return f"Waiting for the project manager: scope creep into *{name}*{frozen} asked by {who}"


def plan_refused(handoff: Handoff, milestone: Milestone | None) -> str:
    """Why Plan is refused while a handoff waits."""
    return f"{waiting_note(handoff, milestone)}. You can plan it again once they answer."


def plan_modal(item: Item) -> dict[str, Any]:
    """Plan feedback: into one of the team's open milestones, or into a new one, which the
    project manager is asked to create (with a date) first."""
    preview = safe_mrkdwn(item.title or item.text, 300)[0]
    blocks: list[Block] = [
        section(f"*#{item.id}* {preview}\n_by <@{item.reporter_id}>_"),
        InputBlock(
            block_id="milestone",
            label="Into a milestone",
            optional=True,
            hint="A frozen milestone asks the project manager first.",
            element=ExternalDataSelectElement(
                action_id=PICK_PLAN_MILESTONE,
                placeholder="This team's open milestones",
                min_query_length=0,
            ),
        ),
        context("…or propose a new milestone: the project manager sets its date and creates it."),
        InputBlock(
            block_id="name",
            label="New milestone",
            optional=True,
            element=PlainTextInputElement(action_id="name", max_length=NAME_LIMIT),
        ),
        InputBlock(
            block_id="due",
            label="Proposed date",
            optional=True,
            element=DatePickerElement(action_id="due"),
        ),
        InputBlock(
            block_id="owner",
            label="Proposed owner",
            optional=True,
            element=UserSelectElement(action_id="owner"),
        ),
    ]
    return _modal(PLAN, {"item": item.id}, "Plan", "Plan", blocks)


def handoff_card(
    handoff: Handoff,
    item: Item,
    milestone: Milestone | None,
    deferred_to: Milestone | None = None,
) -> Message:
    """The project manager's card: a proposed milestone or scope creep, with its buttons while
    it waits, and the outcome (no buttons) once decided. `milestone`: the frozen one (scope
    creep), or the one created (an accepted proposal)."""
    who, what = f"<@{handoff.requested_by}>", item_label(item)
    votes = plural(item.vote_count, "+1")
    if handoff.kind is HandoffKind.NEW_MILESTONE:
        name = quoted_name(handoff.name or "")
        title = f"*New milestone proposed* for <#{handoff.team_channel_id}>"
        when = (
            f"for {day_label(handoff.due_date)}"
            if handoff.due_date
            else "with no date yet: you pick it"
        )
        owner = f", owned by <@{handoff.owner_id}>" if handoff.owner_id else ""
        body = f"{who} wants to plan {what} ({votes}) into a new milestone *{name}*, {when}{owner}."
        buttons: list[tuple[str, str, str | None]] = [
            (ACCEPT_MILESTONE, "Accept", "primary"),
            (DECLINE, "Decline", "danger"),
        ]
        fallback = f"{who} proposes a new milestone, {name}, for #{item.id}"
    else:
        assert milestone is not None
        name = quoted_name(milestone.name)
        title = f"*Scope creep* into *{name}* of <#{handoff.team_channel_id}>"
        frozen = (
            f", frozen since {day_label(milestone.freeze_date)}" if milestone.freeze_date else ""
        )
        body = (
            f"{who} wants to add {what} ({votes}) to *{name}*{frozen}, due "
            f"{day_label(milestone.due_date)}."
        )
        buttons = [(ACCEPT_CREEP, "Accept", "primary"), (DEFER, "Defer", None)]
        fallback = f"{who} wants to add #{item.id} to {name}, frozen"
    facts = (
        f"Raised by <@{item.reporter_id}> in <#{item.source_channel_id or item.team_channel_id}>"
    )
    if item.permalink:
        facts += f" · <{item.permalink}|source message>"
    blocks: list[Block] = [section(title, "handoff_kind"), section(body, "handoff_text")]
    blocks.append(context(facts, "handoff_context"))
    if handoff.status is HandoffStatus.PENDING:
        elements = [
            ButtonElement(text=label, action_id=action, value=str(handoff.id), style=style)
            for action, label, style in buttons
        ]
        blocks.append(ActionsBlock(block_id=ACTIONS_BLOCK_ID, elements=elements))
    else:
        blocks.append(context(outcome(handoff, milestone, deferred_to), "handoff_outcome"))
    return Message(safe_mrkdwn(fallback, FALLBACK_PREVIEW)[0], render_blocks(blocks))


def outcome(handoff: Handoff, milestone: Milestone | None, deferred_to: Milestone | None) -> str:
    """How a decided handoff ended, and who decided it."""
    who = f"<@{handoff.decided_by}>"
    if handoff.status is HandoffStatus.ACCEPTED:
        due = f": due {day_label(milestone.due_date)}" if milestone else ""
        text = f"*Accepted* by {who}{due}"
    elif handoff.status is HandoffStatus.DECLINED:
        text = f"*Declined* by {who}"
    elif handoff.status is HandoffStatus.WITHDRAWN:
        return f"*Withdrawn*: {withdrawn(handoff)}. Nothing is left to decide."
    else:
        where = f"*{quoted_name(deferred_to.name)}*" if deferred_to else "the backlog"
        text = f"*Deferred* to {where} by {who}"
    if handoff.reason:
        text += f"\n_reason:_ {safe_mrkdwn(handoff.reason, 500)[0]}"
    return text


def accept_modal(handoff: Handoff, item: Item) -> dict[str, Any]:
    """Accept a proposed milestone: its date (required; the proposed one, if any) and owner."""
    blocks: list[Block] = [
        section(
            f"Create *{quoted_name(handoff.name or '')}* for {item_label(item)}, proposed by "
            f"<@{handoff.requested_by}>."
        ),
        InputBlock(
            block_id="due",
            label="Due on",
            element=DatePickerElement(
                action_id="due",
                initial_date=handoff.due_date.isoformat() if handoff.due_date else None,
            ),
        ),
        InputBlock(
            block_id="owner",
            label="Owner",
            optional=True,
            element=UserSelectElement(action_id="owner", initial_user=handoff.owner_id),
        ),
    ]
    return _modal(ACCEPT, {"handoff": handoff.id}, "New milestone", "Create it", blocks)


def decline_modal(handoff: Handoff, item: Item) -> dict[str, Any]:
    """Decline a proposed milestone: why (required), for the product manager."""
    blocks: list[Block] = [
        section(
            f"Decline *{quoted_name(handoff.name or '')}*, proposed by "
            f"<@{handoff.requested_by}> for {item_label(item)}."
        ),
        _reason_input("Why? The product manager will read this", optional=False),
    ]
    return _modal(DECLINE, {"handoff": handoff.id}, "Decline", "Decline", blocks)


def defer_modal(
    handoff: Handoff, item: Item, frozen: Milestone, others: Sequence[Milestone]
) -> dict[str, Any]:
    """Defer scope creep: into another open milestone of the team, or to the backlog."""
    options = [Option(value=BACKLOG, text="Backlog (no milestone)")] + [
        Option(value=str(m.id), text=milestone_option(m)) for m in others[: OPTIONS_LIMIT - 1]
    ]
    blocks: list[Block] = [
        section(
            f"Not into *{quoted_name(frozen.name)}*: where should {item_label(item)} go instead?"
        ),
        InputBlock(
            block_id="target",
            label="Plan it into",
            element=StaticSelectElement(action_id="target", options=options),
        ),
        _reason_input("Why? The product manager will read this", optional=True),
    ]
    return _modal(DEFER, {"handoff": handoff.id}, "Defer", "Defer", blocks)


def accepted_note(handoff: Handoff, item: Item, milestone: Milestone) -> str:
    """For the product manager who proposed the milestone."""
    return (
        f"<@{handoff.decided_by}> accepted the new milestone *{quoted_name(milestone.name)}* "
        f"you proposed: due {day_label(milestone.due_date)}. {item_label(item)} is planned "
        "into it."
    )


def creep_accepted_note(handoff: Handoff, item: Item, milestone: Milestone, added: int) -> str:
    """For the product manager: the item is in, and what that does to the milestone's date."""
    return (
        f"Scope creep accepted into *{quoted_name(milestone.name)}*: due "
        f"{day_label(milestone.due_date)} with {plural(added, 'item')} added after the freeze. "
        f"<@{handoff.decided_by}> took {item_label(item)} in."
    )


def declined_note(handoff: Handoff, item: Item) -> str:
    return (
        f"<@{handoff.decided_by}> declined the new milestone "
        f"*{quoted_name(handoff.name or '')}* you proposed for {item_label(item)}."
        f"{_reason(handoff)}\nIt is back in your queue: plan it again when you're ready."
    )


def deferred_note(
    handoff: Handoff, item: Item, frozen: Milestone | None, deferred_to: Milestone | None
) -> str:
    """For the product manager: where the scope creep went instead."""
    was = f"*{quoted_name(frozen.name)}*" if frozen else "the frozen milestone"
    where = (
        f"planned into {milestone_label(deferred_to)} instead"
        if deferred_to
        else "planned with no milestone (the backlog)"
    )
    return (
        f"<@{handoff.decided_by}> kept {item_label(item)} out of {was}, which is frozen: it "
        f"is {where}.{_reason(handoff)}"
    )


def _reason(handoff: Handoff) -> str:
    return f"\n*Reason:* {safe_mrkdwn(handoff.reason, 1000)[0]}" if handoff.reason else ""


def _reason_input(label: str, *, optional: bool) -> InputBlock:
    return InputBlock(
        block_id="reason",
        label=label,
        optional=optional,
        element=PlainTextInputElement(action_id="reason", multiline=True, max_length=REASON_LIMIT),
    )


def _modal(
    callback_id: str, found: dict[str, Any], title: str, submit: str, blocks: list[Block]
) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": json.dumps(found),
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": submit},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": render_blocks(blocks),
    }
