"""Bolt listeners: thin adapters that ack, parse, call the domain and render."""

import logging
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.service import Rolecall, log_api_error
from handlers import actions, commands, events

log = logging.getLogger(__name__)

SORRY = "Sorry, something went wrong on my side and I couldn't finish that. Please try again."


def create_app(service: Rolecall, signing_secret: str, client: WebClient) -> App:
    """Wire every listener onto one Bolt app that verifies Slack's signatures."""
    app = App(
        client=client,
        signing_secret=signing_secret,
        token_verification_enabled=False,
        raise_error_for_unhandled_request=False,
    )
    app.error(_on_error)
    commands.register(app, service)
    events.register(app, service)
    actions.register(app, service)
    return app


def _on_error(
    error: Exception, body: dict[str, Any], response: BoltResponse | None, context: BoltContext
) -> BoltResponse | None:
    """Log with context, and tell the person who asked (ephemeral) instead of failing silently."""
    if isinstance(error, SlackApiError):
        log_api_error(error.response.api_url.rsplit("/", 1)[-1], error)
    log.error(
        "listener failed: type=%s command=%s channel=%s user=%s",
        body.get("type") or "command",
        body.get("command"),
        context.channel_id,
        context.user_id,
        exc_info=error,
    )
    if "command" not in body and body.get("type") != "block_actions":
        return None
    if response is not None:
        return BoltResponse(status=200, body={"response_type": "ephemeral", "text": SORRY})
    if context.respond is not None:
        context.respond(text=SORRY, response_type="ephemeral", replace_original=False)
    return None
