"""The Bolt app: every listener registered on one app that verifies Slack's signatures."""

import logging
from collections.abc import Callable

from slack_bolt import App, BoltResponse
from slack_bolt.authorization.authorize import Authorize
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient

from bot.slack_client import quiet_logger
from handlers.after_ack import AfterAck
from handlers.errors import on_error
from handlers.install import Installs
from handlers.listeners import (
    actions,
    commands,
    events,
    handoff,
    home,
    lists,
    modals,
    reminders,
)
from handlers.services import Tenants
from storage.db import acking


def create_app(
    tenants: Tenants,
    installs: Installs,
    signing_secret: str,
    after_ack: AfterAck,
    client: WebClient,
    *,
    oauth: OAuthSettings | None = None,
    authorize: Authorize | None = None,
    inline: bool = False,
) -> App:
    """`oauth` and `authorize`: installs by many workspaces, each request authorized with its
    own workspace's bot (else `client`'s single token). `inline` runs each listener to
    completion before answering (Bolt's process_before_response): for in-process tests, where
    the reply then shows everything."""
    app = App(
        client=client,
        oauth_settings=oauth,
        authorize=authorize,  # type: ignore[arg-type]  # Bolt takes an Authorize too
        installation_store_bot_only=True if oauth else None,
        logger=_bolt_logger(),
        signing_secret=signing_secret,
        token_verification_enabled=False,
        raise_error_for_unhandled_request=False,
        process_before_response=inline,
        listener_executor=after_ack.listeners,
    )
    app.error(on_error)
    app.use(_on_the_ack_pool)
    commands.register(app, tenants, after_ack)
    events.register(app, tenants, installs, after_ack)
    actions.register(app, tenants, after_ack)
    home.register(app, tenants, after_ack)
    lists.register(app, tenants, after_ack)
    modals.register(app, tenants, after_ack)
    handoff.register(app, tenants, after_ack)
    reminders.register(app, tenants, after_ack)
    return app


def _on_the_ack_pool(next: Callable[[], BoltResponse]) -> BoltResponse:
    """Everything a request does before its ack (middleware, listeners, the work acks wait
    for) takes database connections from the ack pool: work after acks (`AfterAck.run`) and
    scheduled runs use the other pool, so they never make an ack wait for a connection.
    (`Endpoint` marks Bolt's own middleware too; this covers Socket Mode.)"""
    with acking():
        return next()


def _bolt_logger() -> logging.Logger:
    """Bolt's logger, minus the start-up warning it gives whenever SLACK_BOT_TOKEN is in the
    environment and a client is passed too: Rolecall passes its client on purpose (base URL,
    retry handlers), so the warning would only confuse operators."""
    logger = quiet_logger("rolecall.bolt")
    skipped = warning_client_prioritized_and_token_skipped()
    if not any(isinstance(f, _DropMessage) for f in logger.filters):
        logger.addFilter(_DropMessage(skipped))
    return logger


class _DropMessage(logging.Filter):
    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != self.message
