"""The Bolt app: every listener registered on one app that verifies Slack's signatures."""

import logging

from slack_bolt import App
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped

from bot.slack_client import quiet_logger
from handlers.after_ack import AfterAck
from handlers.errors import on_error
from handlers.listeners import actions, commands, events
from handlers.services import Services


def create_app(
    services: Services, signing_secret: str, after_ack: AfterAck, *, inline: bool = False
) -> App:
    """`inline` runs each listener to completion before answering (Bolt's
    process_before_response): for in-process tests, where the reply then shows everything."""
    app = App(
        client=services.client,
        logger=_bolt_logger(),
        signing_secret=signing_secret,
        token_verification_enabled=False,
        raise_error_for_unhandled_request=False,
        process_before_response=inline,
        listener_executor=after_ack.listeners,
    )
    app.error(on_error)
    commands.register(app, services, after_ack)
    events.register(app, services, after_ack)
    actions.register(app, services, after_ack)
    return app


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
