"""Card and digest buttons: triage by a holder of the owning role."""

import re
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond

from bot.blocks.cards import ACTIONS_BLOCK_ID
from bot.permissions import Refused
from bot.status import TRANSITIONS
from handlers.after_ack import AfterAck
from handlers.services import Services

ACTIONS = tuple(TRANSITIONS)


def register(app: App, services: Services, after_ack: AfterAck) -> None:
    pattern = re.compile("^(" + "|".join(re.escape(a) for a in ACTIONS) + ")$")
    triage = services.triage

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
            try:
                outcome = triage.apply(
                    action["action_id"], int(action["value"]), body["user"]["id"]
                )
            except Refused as refused:
                respond(text=str(refused), response_type="ephemeral", replace_original=False)
                return
            if outcome.note:
                respond(text=outcome.note, response_type="ephemeral", replace_original=False)
            if outcome.item is None or action.get("block_id") == ACTIONS_BLOCK_ID:
                return  # a card: triage already updated every copy of it
            # A digest (or its preview) lists many items: update this one's rows in place.
            message = body.get("message") or {}
            blocks = triage.settled_digest(message.get("blocks") or [], outcome.item)
            container = body.get("container") or {}
            if container.get("is_ephemeral"):
                respond(text=message.get("text", ""), blocks=blocks, replace_original=True)
            else:
                triage.update_digest(
                    container["channel_id"],
                    container["message_ts"],
                    message.get("text", ""),
                    blocks,
                )

        after_ack.run(body, context, apply)
