"""Slash commands: /role, /feedback, /blocker, /rolecall, /milestone, /deadline, /digest."""

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond

from bot.commands import (
    ListItems,
    PostDigest,
    PreviewDigest,
    UsageError,
    parse_deadline_command,
    parse_digest_command,
    parse_item_command,
    parse_milestone_command,
    parse_role_command,
    parse_settings_command,
)
from bot.service import Rolecall
from bot.ticker import Ticker
from handlers.errors import AfterAck
from storage.models import ItemKind

NOT_A_TEAM = "Rolecall works in channels: run this in your team's channel."
COMMANDS = ("/role", "/feedback", "/blocker", "/rolecall", "/milestone", "/deadline", "/digest")


def register(app: App, service: Rolecall, ticker: Ticker, after_ack: AfterAck) -> None:
    timeline = ticker.timeline
    # These may read users.info, deliver a backlog or DM someone: all after the ack.
    replies: dict[str, Callable[[str, str, str], str]] = {
        "/role": lambda channel, user, text: service.run_role_command(
            channel, user, parse_role_command(text)
        ),
        "/rolecall": lambda channel, user, text: service.run_settings_command(
            channel, user, parse_settings_command(text)
        ),
        "/milestone": lambda channel, user, text: timeline.run_milestone_command(
            channel, user, parse_milestone_command(text)
        ),
        "/deadline": lambda channel, user, text: timeline.run_deadline_command(
            channel, user, parse_deadline_command(text)
        ),
    }
    for name, run in replies.items():
        app.command(name)(_reply_after_ack(after_ack, run))
    app.command("/digest")(_digest_listener(service, ticker, after_ack))
    for kind in ItemKind:
        app.command(f"/{kind.value}")(_item_listener(service, ticker, after_ack, kind))


def _reply_after_ack(after_ack: AfterAck, run: Callable[[str, str, str], str]) -> Any:
    """A command that acks at once, then runs (channel, user, text) → reply and responds."""

    def listener(ack: Ack, command: dict[str, Any], respond: Respond, context: BoltContext) -> None:
        ack()
        if command["channel_id"].startswith("D"):
            respond(text=NOT_A_TEAM, response_type="ephemeral")
            return

        def work() -> None:
            try:
                reply = run(command["channel_id"], command["user_id"], command.get("text", ""))
            except UsageError as usage:
                reply = str(usage)
            respond(text=reply, response_type="ephemeral")

        after_ack.run(command, context, work)

    return listener


def _digest_listener(service: Rolecall, ticker: Ticker, after_ack: AfterAck) -> Any:
    """Preview (only the caller sees it), post now, or schedule the weekly digest."""

    def digest(ack: Ack, command: dict[str, Any], respond: Respond, context: BoltContext) -> None:
        ack()
        channel_id, user_id = command["channel_id"], command["user_id"]
        if channel_id.startswith("D"):
            respond(text=NOT_A_TEAM, response_type="ephemeral")
            return

        def work() -> None:
            try:
                parsed = parse_digest_command(command.get("text", ""))
            except UsageError as usage:
                respond(text=str(usage), response_type="ephemeral")
                return
            now = service.clock()
            if isinstance(parsed, PreviewDigest):
                content = ticker.timeline.digest(channel_id, now)
                for message in (content.parent, *content.replies.values()):
                    respond(text=message.text, blocks=message.blocks, response_type="ephemeral")
            elif isinstance(parsed, PostDigest):
                if not service.can_manage(channel_id, user_id):
                    reply = (
                        f"Sorry, only the people who hold a role in <#{channel_id}> (or a "
                        "workspace admin) can post its digest."
                    )
                elif ticker.post_digest_now(channel_id, now):
                    reply = f"Posted this week's digest in <#{channel_id}>."
                else:
                    reply = "I couldn't post the digest just now; please try again in a minute."
                respond(text=reply, response_type="ephemeral")
            else:
                reply = ticker.timeline.schedule_digest(channel_id, user_id, parsed)
                respond(text=reply, response_type="ephemeral")

        after_ack.run(command, context, work)

    return digest


def _item_listener(service: Rolecall, ticker: Ticker, after_ack: AfterAck, kind: ItemKind) -> Any:
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
        milestone = ticker.timeline.link_blocker(filed.item) if filed.created else None
        confirmation = filed.confirmation
        if milestone:
            confirmation += f" Linked to milestone *{milestone}*, which is now at risk."
        ack(text=confirmation)
        after_ack.run(command, context, lambda: service.deliver(filed.item, filed.routing))

    return item
