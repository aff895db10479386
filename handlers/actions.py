"""Card buttons: triage by a holder of the owning role."""

import re
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.blocks import TRIAGE_ACTIONS
from bot.service import Rolecall

ACTIONS = tuple(TRIAGE_ACTIONS)


def register(app: App, service: Rolecall) -> None:
    pattern = re.compile("^(" + "|".join(re.escape(a) for a in ACTIONS) + ")$")

    @app.action(pattern)
    def triage(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        outcome = service.triage(action["action_id"], int(action["value"]), body["user"]["id"])
        if outcome.refusal:
            respond(text=outcome.refusal, response_type="ephemeral", replace_original=False)
