"""Slash commands: /role, /feedback, /blocker, /rolecall."""

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond

from bot.commands import (
    ListItems,
    UsageError,
    parse_item_command,
    parse_role_command,
    parse_settings_command,
)
from bot.service import Rolecall
from handlers.errors import AfterAck
from storage.models import ItemKind

NOT_A_TEAM = "Rolecall works in channels: run this in your team's channel."
COMMANDS = ("/role", "/feedback", "/blocker", "/rolecall")


def register(app: App, service: Rolecall, after_ack: AfterAck) -> None:
    # Role and settings changes may read users.info and deliver a backlog: all after the ack.
    app.command("/role")(
        _reply_after_ack(
            after_ack,
            lambda channel, user, text: service.run_role_command(
                channel, user, parse_role_command(text)
            ),
        )
    )
    app.command("/rolecall")(
        _reply_after_ack(
            after_ack,
            lambda channel, user, text: service.run_settings_command(
                channel, user, parse_settings_command(text)
            ),
        )
    )
    for kind in ItemKind:
        app.command(f"/{kind.value}")(_item_listener(service, after_ack, kind))


def _reply_after_ack(after_ack: AfterAck, run: Callable[[str, str, str], str]) -> Any:
    """A command that acks at once, then runs (channel, user, text) → reply and responds."""

    def listener(ack: Ack, command: dict[str, Any], respond: Respond, context: BoltContext) -> None:
        ack()

        def work() -> None:
            try:
                reply = run(command["channel_id"], command["user_id"], command.get("text", ""))
            except UsageError as usage:
                reply = str(usage)
            respond(text=reply, response_type="ephemeral")

        after_ack.run(command, context, work)

    return listener


def _item_listener(service: Rolecall, after_ack: AfterAck, kind: ItemKind) -> Any:
    def item(ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
        """Store first, then ack with the confirmation; the cards are posted after the ack."""
        channel_id = command["channel_id"]
        if channel_id.startswith("D"):
            ack(text=NOT_A_TEAM)
            return
        try:
            parsed = parse_item_command(kind, command.get("text", ""))
        except UsageError as usage:
            ack(text=str(usage))
            return
        if isinstance(parsed, ListItems):
            queue = service.queue(channel_id, kind)
            ack(text=queue.text, blocks=queue.blocks)
            return
        filed = service.file(parsed, channel_id, command["user_id"])
        ack(text=filed.confirmation)
        after_ack.run(command, context, lambda: service.deliver(filed.item, filed.routing))

    return item
