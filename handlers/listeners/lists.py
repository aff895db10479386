"""The "More" button of `/feedback list` and `/blocker list`: the next page, in place."""

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond

from bot.blocks.lists import MORE_ACTION
from bot.lists import STALE_LIST
from bot.parsing.words import UsageError
from handlers.after_ack import AfterAck
from handlers.listeners import services_for
from handlers.services import Tenants


def register(app: App, tenants: Tenants, after_ack: AfterAck) -> None:
    @app.action(MORE_ACTION)
    def more(
        ack: Ack,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: Respond,
        context: BoltContext,
    ) -> None:
        """A list is an ephemeral reply in its team channel, so the channel is the one Slack
        names in the signed payload; the button's value only says where the list stands."""
        ack()

        def next_page() -> None:
            channel = body.get("channel")
            channel_id = channel.get("id") if isinstance(channel, dict) else None
            if not isinstance(channel_id, str) or not channel_id.startswith(("C", "G")):
                respond(text=STALE_LIST, response_type="ephemeral", replace_original=False)
                return
            services = services_for(tenants, context)
            try:
                page = services.lists.more(channel_id, action.get("value"))
            except UsageError as usage:
                respond(text=str(usage), response_type="ephemeral", replace_original=False)
                return
            respond(
                text=page.text,
                blocks=page.blocks,
                response_type="ephemeral",
                replace_original=True,
            )

        after_ack.run(body, context, next_page)
