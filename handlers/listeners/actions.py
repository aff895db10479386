"""Card and digest buttons: triage by a holder of the owning role."""

import re
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond

from bot.blocks.cards import ACTIONS_BLOCK_ID
from bot.parsing.words import parse_row_id
from bot.permissions import Refused
from bot.status import TRANSITIONS
from handlers.after_ack import AfterAck
from handlers.listeners import services_for
from handlers.services import Tenants

ACTIONS = tuple(TRANSITIONS)
STALE_BUTTON = "That button doesn't point at anything I know. Open the item's card and try there."


def register(app: App, tenants: Tenants, after_ack: AfterAck) -> None:
    pattern = re.compile("^(" + "|".join(re.escape(a) for a in ACTIONS) + ")$")

    @app.action(pattern)
    def triage_button(
        ack: Ack,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: Respond,
        context: BoltContext,
    ) -> None:
        ack()

        def apply() -> None:
            services = services_for(tenants, context)
            triage = services.triage
            item_id = parse_row_id(action.get("value"))
            if item_id is None:
                respond(text=STALE_BUTTON, response_type="ephemeral", replace_original=False)
                return
            if not services.first_time(body.get("trigger_id")):
                return  # the same click, replayed
            try:
                outcome = triage.apply(action["action_id"], item_id, body["user"]["id"])
            except Refused as refused:
                respond(text=str(refused), response_type="ephemeral", replace_original=False)
                return
            if outcome.note:
                respond(text=outcome.note, response_type="ephemeral", replace_original=False)
            item = outcome.item
            if item is None or action.get("block_id") == ACTIONS_BLOCK_ID:
                return  # a card: triage already updated every copy of it
            container = body.get("container") or {}
            if container.get("is_ephemeral"):
                # A /digest preview: Slack sends no message; show the queue as it is now.
                preview = services.digests.preview_reply(item.team_channel_id, item.kind.owner_role)
                respond(text=preview.text, blocks=preview.blocks, replace_original=True)
                return
            triage.update_digest(
                item, str(container.get("channel_id", "")), str(container.get("message_ts", ""))
            )

        after_ack.run(body, context, apply)
