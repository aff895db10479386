"""Card buttons: triage by a holder of the owning role."""

import re
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond

from bot.blocks import ACTIONS_BLOCK_ID, TRIAGE_ACTIONS
from bot.service import Rolecall
from handlers.errors import AfterAck

ACTIONS = tuple(TRIAGE_ACTIONS)


def register(app: App, service: Rolecall, after_ack: AfterAck) -> None:
    pattern = re.compile("^(" + "|".join(re.escape(a) for a in ACTIONS) + ")$")

    @app.action(pattern)
    def triage(
        ack: Ack,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: Respond,
        context: BoltContext,
    ) -> None:
        ack()

        def apply() -> None:
            outcome = service.triage(action["action_id"], int(action["value"]), body["user"]["id"])
            if outcome.refusal:
                respond(text=outcome.refusal, response_type="ephemeral", replace_original=False)
            if outcome.item is None or action.get("block_id") == ACTIONS_BLOCK_ID:
                return  # a card: triage already updated every copy of it
            # A digest (or its preview) lists many items: update this one's row in place.
            message = body.get("message") or {}
            blocks = service.digest_rows_settled(message.get("blocks") or [], outcome.item)
            container = body.get("container") or {}
            if container.get("is_ephemeral"):
                respond(text=message.get("text", ""), blocks=blocks, replace_original=True)
            else:
                service.update_message(
                    container["channel_id"],
                    container["message_ts"],
                    message.get("text", ""),
                    blocks,
                )

        after_ack.run(body, context, apply)
