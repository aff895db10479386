"""Bolt listeners, grouped by kind of request; each module has `register(app, …)`."""

from typing import Any

from slack_bolt import BoltContext, Respond

from handlers.services import Services, Tenants


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
