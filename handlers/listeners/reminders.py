"""Snooze 1 day, Snooze until Monday and Mute on an overdue reminder (a DM we sent)."""

import logging
import re
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond

from bot.blocks.reminders import SNOOZE_ACTIONS
from bot.permissions import Refused
from bot.snooze import parse_subject
from handlers.after_ack import AfterAck
from handlers.listeners import services_for, tell
from handlers.services import Tenants

log = logging.getLogger(__name__)


def register(app: App, tenants: Tenants, after_ack: AfterAck) -> None:
    pattern = re.compile("^(" + "|".join(re.escape(a) for a in SNOOZE_ACTIONS) + ")$")

    @app.action(pattern)
    def snooze_or_mute(
        ack: Ack,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: Respond,
        context: BoltContext,
    ) -> None:
        """Acked at once; after the ack a value that names no milestone or deadline is logged
        and dropped (our buttons never carry one), and a replayed click acts once."""
        ack()

        def run() -> None:
            subject = parse_subject(action.get("value"))
            if subject is None:
                log.warning("reminder button naming nothing of ours: %.60r", action.get("value"))
                return
            services = services_for(tenants, context)
            if not services.first_time(body.get("trigger_id")):
                return  # the same click, replayed
            container = body.get("container") or {}
            try:
                note = services.snoozes.press(
                    action["action_id"],
                    subject,
                    body["user"]["id"],
                    str(container.get("channel_id", "")),
                    str(container.get("message_ts", "")),
                )
            except Refused as refused:
                note = str(refused)
            if note:
                tell(services, body, respond, note)

        after_ack.run(body, context, run)
