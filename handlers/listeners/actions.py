"""Triage buttons, wherever they are pressed: a card, a digest row, a /digest preview, Home.

A button whose transition asks something first (a reason, the original of a duplicate, a day)
opens its modal at once (Slack's trigger is good for 3 s); the others apply on the click.
"""

import re
from typing import Any

from slack_bolt import App, Respond

from bot.blocks.cards import ACTIONS_BLOCK_ID, MERGE
from bot.blocks.modals import triage_modal
from bot.status import TRANSITIONS, Ask
from bot.triage import Decision
from handlers.after_ack import AfterAck
from handlers.listeners import row_button, tell
from handlers.services import Services, Tenants

ACTIONS = (*TRANSITIONS, MERGE)
STALE_BUTTON = "That button doesn't point at anything I know. Open the item's card and try there."
NO_MATCH = "That item no longer looks like an open one: use Duplicate to pick the original."


def register(app: App, tenants: Tenants, after_ack: AfterAck) -> None:
    pattern = re.compile("^(" + "|".join(re.escape(a) for a in ACTIONS) + ")$")

    app.action(pattern)(row_button(tenants, after_ack, _press, STALE_BUTTON, _asks_first))


def _asks_first(action_id: str) -> bool:
    """A button that asks something first opens its modal (Merge asks nothing)."""
    transition = TRANSITIONS.get(action_id)
    return transition is not None and transition.ask is not Ask.NOTHING


def _press(
    services: Services,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: Respond,
    item_id: int,
) -> None:
    triage, user_id = services.triage, body["user"]["id"]
    action_id = action["action_id"]
    if action_id == MERGE:
        # The original is the one our records suggested, never one named by the payload.
        item = triage.items.get(item_id)
        if item is None or item.similar_to is None:
            tell(services, body, respond, NO_MATCH)
            return
        outcome = triage.apply(
            "item_duplicate", item_id, user_id, Decision(original_id=item.similar_to)
        )
    elif TRANSITIONS[action_id].ask is not Ask.NOTHING:
        item = triage.check(action_id, item_id, user_id)
        transition = TRANSITIONS[action_id]
        today = services.planning.today(item.team_channel_id)
        view = triage_modal(item, transition, triage.holders(item), today)
        services.client.views_open(trigger_id=body["trigger_id"], view=view)
        return
    else:
        outcome = triage.apply(action_id, item_id, user_id)
    if outcome.note:
        tell(services, body, respond, outcome.note)
    item = outcome.item
    container = body.get("container") or {}
    if (
        item is None
        or action.get("block_id") == ACTIONS_BLOCK_ID
        or container.get("type") != "message"
    ):
        return  # a card (every copy is updated) or Home (refreshed): nothing more to do
    if container.get("is_ephemeral"):
        # A /digest preview: Slack sends no message; show the queue as it is now.
        preview = services.digests.preview_reply(item.team_channel_id, item.kind.owner_role)
        respond(text=preview.text, blocks=preview.blocks, replace_original=True)
        return
    triage.update_digest(
        item, str(container.get("channel_id", "")), str(container.get("message_ts", ""))
    )
