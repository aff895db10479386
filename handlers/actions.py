"""Card buttons: triage by a holder of the owning role."""

import re
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond

from bot.blocks import TRIAGE_ACTIONS
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

        after_ack.run(body, context, apply)
