"""Bolt listeners: thin adapters that ack, parse, call the domain and render."""

from slack_bolt import App
from slack_sdk import WebClient

from bot.service import Rolecall
from handlers import actions, commands, events
from handlers.errors import on_error


def create_app(service: Rolecall, signing_secret: str, client: WebClient) -> App:
    """Wire every listener onto one Bolt app that verifies Slack's signatures."""
    app = App(
        client=client,
        signing_secret=signing_secret,
        token_verification_enabled=False,
        raise_error_for_unhandled_request=False,
    )
    app.error(on_error)
    commands.register(app, service)
    events.register(app, service)
    actions.register(app, service)
    return app
