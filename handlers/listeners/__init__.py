"""Bolt listeners, grouped by kind of request; each module has `register(app, …)`."""

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from bot.parsing.words import parse_row_id
from bot.permissions import Refused
from handlers.after_ack import AfterAck
from handlers.services import Services, Tenants

# What a button on one of our rows does, after the ack: (services, body, action, respond, row id).
Press = Callable[[Services, dict[str, Any], dict[str, Any], Respond, int], None]


def services_for(tenants: Tenants, context: BoltContext) -> Services:
    """The services of the workspace a request came from (Bolt read it from the payload)."""
    return tenants.of(context.enterprise_id, context.team_id, bool(context.is_enterprise_install))


def tell(services: Services, body: dict[str, Any], respond: Respond | None, text: str) -> None:
    """Something only the person who acted should read: ephemeral where they acted on a
    message; by DM from Home or a modal, which have nowhere to respond to (keyed by the
    interaction's trigger, so a retried run tells them once)."""
    if respond is not None and body.get("response_url"):
        respond(text=text, response_type="ephemeral", replace_original=False)
        return
    user_id = body["user"]["id"]
    services.triage.notices.dm(f"told:{body.get('trigger_id') or text[:60]}", user_id, text)


def row_button(
    tenants: Tenants,
    after_ack: AfterAck,
    press: Press,
    stale: str,
    opens_modal: Callable[[str], bool],
) -> Callable[..., None]:
    """A listener for buttons whose value names one of our rows (an item, a handoff): acked at
    once; after the ack a value that names no row is told `stale`, a replayed click is dropped,
    and a refusal from `press` is told to the person. A button that opens a modal runs on the
    pool kept for them (its trigger is good for 3 s)."""

    def listener(
        ack: Ack,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: Respond,
        context: BoltContext,
    ) -> None:
        ack()

        def run() -> None:
            services = services_for(tenants, context)
            row_id = parse_row_id(action.get("value"))
            if row_id is None:
                tell(services, body, respond, stale)
                return
            if not services.first_time(body.get("trigger_id")):
                return  # the same click, replayed
            try:
                press(services, body, action, respond, row_id)
            except Refused as refused:
                tell(services, body, respond, str(refused))

        after_ack.run(body, context, run, prompt=opens_modal(action["action_id"]))

    return listener
