"""Bolt listeners, grouped by kind of request; each module has `register(app, …)`."""

from slack_bolt import BoltContext

from handlers.services import Services, Tenants


def services_for(tenants: Tenants, context: BoltContext) -> Services:
    """The services of the workspace a request came from (Bolt read it from the payload)."""
    return tenants.of(context.enterprise_id, context.team_id, bool(context.is_enterprise_install))
