"""Slash commands: /role, /feedback, /blocker, /risk, /rolecall, /milestone, /deadline, /digest,
/roadmap."""

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond

from bot.blocks.cards import kind_noun
from bot.blocks.common import Message
from bot.capture import Capture
from bot.export import EXPORT_FAILED, EXPORTING
from bot.parsing.planning import (
    PostDigest,
    PreviewDigest,
    parse_deadline_command,
    parse_digest_command,
    parse_milestone_command,
)
from bot.parsing.risk import ListRisks, parse_risk_command
from bot.parsing.roadmap import parse_roadmap_command
from bot.parsing.team import (
    AddWebhook,
    ExportItems,
    ListItems,
    ListWebhooks,
    RemoveWebhook,
    parse_item_command,
    parse_role_command,
    parse_rolecall_command,
)
from bot.parsing.words import UsageError
from handlers.after_ack import AfterAck, Answer
from handlers.errors import answer
from handlers.listeners import services_for
from handlers.services import Services, Tenants
from storage.models import QUEUE_KINDS, ItemKind

STILL_FILING = (
    "The database is slow right now: I'm still filing your {kind} and will confirm here "
    "when it's in."
)
QUEUE_SLOW = "The queue is slow to load right now; it will appear here in a moment."
QUEUE_FAILED = "I couldn't read the queue: the database isn't answering. Please try again soon."
NOT_STORED = (
    "I couldn't store your {kind}: the database isn't answering. Please send it again in a "
    "few minutes."
)
CARD_FOLLOWS = (
    "Your {kind} is filed. I couldn't deliver its card just now; it will follow, "
    "no need to send it again."
)
NOT_A_TEAM = "Rolecall works in channels: run this in your team's channel."
COMMANDS = (
    "/role",
    "/feedback",
    "/blocker",
    "/risk",
    "/rolecall",
    "/milestone",
    "/deadline",
    "/digest",
    "/roadmap",
)


Reply = str | list[Message]  # one text, or messages with blocks (a digest preview)


Run = Callable[[Services, str, str, str], Reply]  # (services, channel, user, text) → reply


def register(app: App, tenants: Tenants, after_ack: AfterAck) -> None:
    # These may read users.info, deliver a backlog or DM someone: all after the ack.
    replies: dict[str, Run] = {
        "/role": lambda services, channel, user, text: services.roles.run(
            channel, user, parse_role_command(text)
        ),
        "/rolecall": _rolecall,
        "/milestone": lambda services, channel, user, text: services.planning.run_milestone_command(
            channel, user, parse_milestone_command(text)
        ),
        "/deadline": lambda services, channel, user, text: services.planning.run_deadline_command(
            channel, user, parse_deadline_command(text)
        ),
        "/digest": _digest,
        "/roadmap": lambda services, channel, user, text: services.roadmap.run(
            channel, user, parse_roadmap_command(text)
        ),
    }
    for name, run in replies.items():
        app.command(name)(_reply_after_ack(tenants, after_ack, run))
    for kind in QUEUE_KINDS:
        app.command(f"/{kind.value}")(_item_listener(tenants, after_ack, kind))
    app.command("/risk")(_risk_listener(tenants, after_ack))


def _reply_after_ack(tenants: Tenants, after_ack: AfterAck, run: Run) -> Any:
    """A command that acks at once, then runs (channel, user, text) → reply and responds."""

    def listener(ack: Ack, command: dict[str, Any], respond: Respond, context: BoltContext) -> None:
        ack()
        channel_id = command["channel_id"]
        if channel_id.startswith("D"):
            respond(text=NOT_A_TEAM, response_type="ephemeral")
            return

        def work() -> None:
            services = services_for(tenants, context)
            if not services.first_time(command.get("trigger_id")):
                return  # the same command, replayed
            text = command.get("text", "")
            reply = answer(lambda: run(services, channel_id, command["user_id"], text))
            if isinstance(reply, str):
                respond(text=reply, response_type="ephemeral")
                return
            for message in reply:
                respond(text=message.text, blocks=message.blocks, response_type="ephemeral")

        after_ack.run(command, context, work)

    return listener


def _rolecall(services: Services, channel_id: str, user_id: str, text: str) -> Reply:
    parsed = parse_rolecall_command(text)
    if isinstance(parsed, AddWebhook | ListWebhooks | RemoveWebhook):
        return services.webhooks.run(channel_id, user_id, parsed)
    return services.team_settings.run(channel_id, user_id, parsed)


def _digest(services: Services, channel_id: str, user_id: str, text: str) -> Reply:
    parsed = parse_digest_command(text)
    if isinstance(parsed, PreviewDigest):
        return services.digests.preview(channel_id)
    if isinstance(parsed, PostDigest):
        return services.digests.post_on_request(channel_id, user_id)
    return services.team_settings.schedule_digest(channel_id, user_id, parsed)


def _item_listener(tenants: Tenants, after_ack: AfterAck, kind: ItemKind) -> Any:
    def item(ack: Ack, command: dict[str, Any], respond: Respond, context: BoltContext) -> None:
        """Store first, then ack with the confirmation (within the ack budget); the cards are
        posted after the ack."""
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
            after_ack.answer(
                ack,
                respond,
                command,
                context,
                lambda: Answer(services_for(tenants, context).lists.first(channel_id, parsed)),
                slow=QUEUE_SLOW,
                failed=QUEUE_FAILED,
            )
            return
        if isinstance(parsed, ExportItems):
            ack(text=EXPORTING)
            after_ack.run(
                command,
                context,
                lambda: _export(services_for(tenants, context), command, respond, parsed),
                EXPORT_FAILED,
            )
            return
        capture = Capture(kind, parsed.text, channel_id, command["user_id"])
        after_ack.answer(
            ack,
            respond,
            command,
            context,
            lambda: _file_once(services_for(tenants, context), command, capture),
            slow=STILL_FILING.format(kind=kind.value),
            failed=NOT_STORED.format(kind=kind.value),
        )

    return item


def _risk_listener(tenants: Tenants, after_ack: AfterAck) -> Any:
    def risk(ack: Ack, command: dict[str, Any], respond: Respond, context: BoltContext) -> None:
        """Like `/feedback`: a risk is stored before the ack, which confirms it. A list is two
        replies after the ack (market risks, then operational risks), each with its "More"."""
        channel_id = command["channel_id"]
        if channel_id.startswith("D"):
            ack(text=NOT_A_TEAM)
            return
        try:
            parsed = parse_risk_command(command.get("text", ""))
        except UsageError as usage:
            ack(text=str(usage))
            return
        if isinstance(parsed, ListRisks):
            ack()
            after_ack.run(
                command,
                context,
                lambda: _respond_each(
                    respond, services_for(tenants, context).lists.risks(channel_id, parsed.filter)
                ),
            )
            return
        capture = Capture(parsed.kind, parsed.text, channel_id, command["user_id"])
        after_ack.answer(
            ack,
            respond,
            command,
            context,
            lambda: _file_once(services_for(tenants, context), command, capture),
            slow=STILL_FILING.format(kind="risk"),
            failed=NOT_STORED.format(kind="risk"),
        )

    return risk


def _respond_each(respond: Respond, messages: list[Message]) -> None:
    for message in messages:
        respond(text=message.text, blocks=message.blocks, response_type="ephemeral")


def _export(
    services: Services, command: dict[str, Any], respond: Respond, wanted: ExportItems
) -> None:
    """After the ack: stream the export into a file and upload it to the person's DM; a
    refusal, or nothing to export, is told where they asked."""
    if not services.first_time(command.get("trigger_id")):
        return  # the same command, replayed
    note = answer(lambda: services.exports.send(command["channel_id"], command["user_id"], wanted))
    if note is not None:
        respond(text=note, response_type="ephemeral")


def _file_once(services: Services, command: dict[str, Any], capture: Capture) -> Answer:
    """File the capture; this very command (its trigger) again gets the same answer and files
    nothing more."""
    filed = services.capture.file(capture, command.get("trigger_id"))
    return Answer(
        Message(filed.confirmation, []),
        lambda: services.capture.announce(filed, confirmed=True),
        CARD_FOLLOWS.format(kind=kind_noun(capture.kind)),
    )
