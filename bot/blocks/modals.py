"""Modals: a triage step that asks the owner something first, and capture with details.

Each view names what it is for in `callback_id` and carries the item or the source message in
`private_metadata` (JSON, read back defensively: a submission is re-checked against our own
records, never trusted for who may do what).
"""

import json
from datetime import date
from typing import Any, Literal

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    ConversationFilter,
    ConversationSelectElement,
    DatePickerElement,
    ExternalDataSelectElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
    UserSelectElement,
)

from bot.blocks.common import KIND_LABEL, ROLE_LABEL, mentions, render_blocks, section
from bot.blocks.handoff import plan_modal
from bot.mrkdwn import safe_mrkdwn
from bot.status import Ask, Transition
from storage.models import QUEUE_KINDS, Item, ItemKind, Level

TRIAGE = "triage"
CAPTURE = "capture"
ANSWER_VIEW = "answer"  # the reporter's answer to the owner's question
PICK_ORIGINAL = "item_original"  # the external_select of a duplicate's original
PICK_MILESTONE = "capture_milestone"
PICK_KIND = "capture_kind"  # the global shortcut's kind choice: swaps the kind's fields
RISK: Literal["risk"] = "risk"  # the capture form of a risk: its kind is a field of its own
PICK_FOR_ME = "pick"  # that field's "Let Rolecall pick" (`bot.risks.guess_kind`)
Form = ItemKind | Literal["risk"]  # what the capture modal files: a queue's kind, or a risk
TITLE_LIMIT = 150
DETAILS_LIMIT = 3000
TEXT_LIMIT = 2000  # a reason, a note, a question

_TITLES = {
    Ask.REASON: "Decline",
    Ask.NOTE: "Resolve",
    Ask.QUESTION: "Ask for more",
    Ask.ORIGINAL: "Merge into…",
    Ask.UNTIL: "Snooze",
    Ask.HOLDER: "Reassign",
    Ask.OWNER: "Set owner",
}
_LEVELS = [Option(value=level.value, text=level.value.capitalize()) for level in Level]
_MEDIUM = next(o for o in _LEVELS if o.value == Level.MEDIUM)
_FORMS = [
    *(Option(value=k.value, text=KIND_LABEL[k].split(" ", 1)[1]) for k in QUEUE_KINDS),
    Option(value=RISK, text="Risk"),
]
_RISK_KINDS = [
    Option(value=PICK_FOR_ME, text="Let Rolecall pick (from the words in it)"),
    Option(value=ItemKind.MARKET_RISK.value, text="Market: the product manager's"),
    Option(value=ItemKind.OPERATIONAL_RISK.value, text="Operational: the project manager's"),
]


def triage_modal(
    item: Item, transition: Transition, holders: list[str], today: date
) -> dict[str, Any]:
    """What the owner is asked before `transition` applies to `item`."""
    if transition.ask is Ask.MILESTONE:
        return plan_modal(item)  # fields of its own, and a submission of its own
    preview = safe_mrkdwn(item.title or item.text, 300)[0]
    blocks: list[Block] = [section(f"*#{item.id}* {preview}\n_by <@{item.reporter_id}>_")]
    ask = transition.ask
    if ask in (Ask.REASON, Ask.NOTE, Ask.QUESTION):
        label = {
            Ask.REASON: "Why? The person who raised it will read this",
            Ask.NOTE: "A note for the person who raised it",
            Ask.QUESTION: "What do you need to know? Asked of the person who raised it",
        }[ask]
        blocks.append(
            InputBlock(
                block_id="reason",
                label=label,
                optional=ask is Ask.NOTE,
                element=PlainTextInputElement(
                    action_id="reason", multiline=True, max_length=TEXT_LIMIT
                ),
            )
        )
    elif ask is Ask.ORIGINAL:
        blocks.append(
            InputBlock(
                block_id="original",
                label="The item it duplicates",
                hint="Its reporter and +1s count there, and they hear when it is closed.",
                element=ExternalDataSelectElement(
                    action_id=PICK_ORIGINAL,
                    placeholder="Search this team's open feedback",
                    min_query_length=0,
                ),
            )
        )
    elif ask is Ask.UNTIL:
        blocks.append(
            InputBlock(
                block_id="until",
                label="Back in the queue on",
                element=DatePickerElement(
                    action_id="until",
                    initial_date=date.fromordinal(today.toordinal() + 7).isoformat(),
                ),
            )
        )
    elif ask is Ask.HOLDER:
        who = mentions(holders) or "_nobody else holds the role_"
        blocks.append(
            InputBlock(
                block_id="holder",
                label=f"Hand it to another {ROLE_LABEL[item.kind.owner_role]}",
                element=UserSelectElement(action_id="holder"),
            )
        )
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"They are: {who}")]))
    elif ask is Ask.OWNER:
        blocks.append(
            InputBlock(
                block_id="owner",
                label="Who owns this risk?",
                hint="Anyone in the workspace: they get its card by DM.",
                element=UserSelectElement(action_id="owner", initial_user=item.assignee_id),
            )
        )
    # A note closes different things (a blocker resolved, a risk accepted): say which.
    title = transition.label if ask is Ask.NOTE else _TITLES[ask]
    return {
        "type": "modal",
        "callback_id": TRIAGE,
        "private_metadata": json.dumps({"item": item.id, "action": transition.action_id}),
        "title": {"type": "plain_text", "text": title[:24]},
        "submit": {"type": "plain_text", "text": title.rstrip("…")[:24] or "Save"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": render_blocks(blocks),
    }


def answer_modal(item: Item) -> dict[str, Any]:
    """The reporter answers the owner's question (the item's `reason`) about what they raised."""
    question = safe_mrkdwn(item.reason or "", 1000)[0]
    preview = safe_mrkdwn(item.title or item.text, 300)[0]
    blocks: list[Block] = [
        section(f"<@{item.handled_by}> asked about *#{item.id}*: {question}\n>{preview}"),
        InputBlock(
            block_id="answer",
            label="Your answer",
            hint="They'll get it by DM, and the item goes back to their queue.",
            element=PlainTextInputElement(
                action_id="answer", multiline=True, max_length=TEXT_LIMIT
            ),
        ),
    ]
    return {
        "type": "modal",
        "callback_id": ANSWER_VIEW,
        "private_metadata": json.dumps({"item": item.id}),
        "title": {"type": "plain_text", "text": "Answer"},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": render_blocks(blocks),
    }


def capture_form(value: object) -> Form | None:
    """The form a kind menu's value names; None for anything else (a forged value)."""
    if value == RISK:
        return RISK
    return next((k for k in QUEUE_KINDS if k.value == value), None)


def capture_modal(
    kind: Form | None,
    *,
    channel_id: str | None = None,
    title: str = "",
    details: str = "",
    source: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Feedback, a blocker or a risk with details. `kind` None: the global shortcut, which asks
    for the kind first (picking one swaps in its fields). `source`: the message a message
    shortcut was used on (channel, ts, author), kept in the metadata."""
    blocks: list[Block] = [
        InputBlock(
            block_id="kind",
            label="What is it?",
            dispatch_action=True,
            element=StaticSelectElement(
                action_id=PICK_KIND,
                options=_FORMS,
                initial_option=next((o for o in _FORMS if o.value == kind), None),
            ),
        ),
        InputBlock(
            block_id="team",
            label="Team channel",
            element=ConversationSelectElement(
                action_id="team",
                initial_conversation=channel_id,
                default_to_current_conversation=channel_id is None,
                filter=ConversationFilter(include=["public", "private"], exclude_bot_users=True),
            ),
        ),
        InputBlock(
            block_id="title",
            label="Title",
            element=PlainTextInputElement(
                action_id="title", initial_value=title[:TITLE_LIMIT] or None, max_length=TITLE_LIMIT
            ),
        ),
        InputBlock(
            block_id="details",
            label="Details",
            optional=True,
            element=PlainTextInputElement(
                action_id="details",
                multiline=True,
                initial_value=details[:DETAILS_LIMIT] or None,
                max_length=DETAILS_LIMIT,
            ),
        ),
    ]
    if kind is ItemKind.FEEDBACK:
        blocks.append(
            InputBlock(
                block_id="customer",
                label="Customer or account",
                optional=True,
                element=PlainTextInputElement(action_id="customer", max_length=200),
            )
        )
        blocks.append(
            InputBlock(
                block_id="impact",
                label="Impact",
                optional=True,
                element=StaticSelectElement(action_id="impact", options=_LEVELS),
            )
        )
    elif kind is ItemKind.BLOCKER:
        blocks.append(
            InputBlock(
                block_id="severity",
                label="Severity",
                optional=True,
                element=StaticSelectElement(action_id="severity", options=_LEVELS),
            )
        )
        blocks.append(
            InputBlock(
                block_id="milestone",
                label="Milestone it holds up",
                optional=True,
                element=ExternalDataSelectElement(
                    action_id=PICK_MILESTONE,
                    placeholder="The team's open milestones",
                    min_query_length=0,
                ),
            )
        )
    elif kind == RISK:
        blocks.extend(_risk_fields())
    if isinstance(kind, ItemKind):
        title_text = KIND_LABEL[kind].split(" ", 1)[1]
    else:
        title_text = "Feedback, blocker, risk" if kind is None else "Risk"
    return {
        "type": "modal",
        "callback_id": CAPTURE,
        "private_metadata": json.dumps({"source": source} if source else {}),
        "title": {"type": "plain_text", "text": title_text[:24]},
        "submit": {"type": "plain_text", "text": "File it"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": render_blocks(blocks),
    }


def _risk_fields() -> list[Block]:
    """Whose risk it is (or let the keyword rule pick), how likely and how bad (medium unless
    changed), and the milestone it threatens."""
    return [
        InputBlock(
            block_id="risk_kind",
            label="Whose is it?",
            element=StaticSelectElement(
                action_id="risk_kind", options=_RISK_KINDS, initial_option=_RISK_KINDS[0]
            ),
        ),
        *(
            InputBlock(
                block_id=field,
                label=field.capitalize(),
                element=StaticSelectElement(
                    action_id=field, options=_LEVELS, initial_option=_MEDIUM
                ),
            )
            for field in ("likelihood", "impact")
        ),
        InputBlock(
            block_id="milestone",
            label="Milestone it threatens",
            optional=True,
            element=ExternalDataSelectElement(
                action_id=PICK_MILESTONE,
                placeholder="The team's open milestones",
                min_query_length=0,
            ),
        ),
    ]


def metadata(view: dict[str, Any]) -> dict[str, Any]:
    """A view's private_metadata as a dict; anything else (junk, a forged string) is empty."""
    try:
        loaded = json.loads(view.get("private_metadata") or "{}")
    except (ValueError, RecursionError):  # junk, or nested past what the parser follows
        return {}
    return loaded if isinstance(loaded, dict) else {}


def option(value: str, text: str) -> dict[str, Any]:
    """An option for an external_select's answer (Slack allows 75 characters of text)."""
    return {"text": {"type": "plain_text", "text": text[:75]}, "value": value[:150]}
