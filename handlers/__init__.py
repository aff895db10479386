"""Bolt listeners: thin adapters that ack, parse, call the domain and render."""

import logging
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk import WebClient

from bot.service import Rolecall
from bot.slack import quiet_logger
from bot.ticker import Ticker
from handlers import actions, commands, events
from handlers.errors import AfterAck, on_error

LISTENER_THREADS = 16


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


def create_app(
    service: Rolecall,
    ticker: Ticker,
    signing_secret: str,
    client: WebClient,
    after_ack: AfterAck,
) -> App:
    """Wire every listener onto one Bolt app that verifies Slack's signatures."""
    app = App(
        client=client,
        logger=_bolt_logger(),
        signing_secret=signing_secret,
        token_verification_enabled=False,
        raise_error_for_unhandled_request=False,
        # Event listeners (already acked) spend their time waiting on Slack's Web API.
        listener_executor=ThreadPoolExecutor(max_workers=LISTENER_THREADS),
    )
    app.error(on_error)
    commands.register(app, service, ticker, after_ack)
    events.register(app, service)
    actions.register(app, service, after_ack)
    return app
