"""Events API listeners: routing reactions, `feedback:` messages, mentions, App Home."""

from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse

from bot.capture import Capture, SourceMessage
from bot.parsing.team import normalise_emoji, parse_capture, strip_leading_mention
from bot.permissions import Refused
from handlers.after_ack import AfterAck
from handlers.install import Installs, workspace_of
from handlers.listeners import services_for
from handlers.services import Services, Tenants

MENTION_HELP = (
    "Tell me `feedback: …` or `blocker: …` and I'll file it for this channel's product or "
    "project manager. `/role` shows who they are."
)
# Plain messages and the subtypes that are still a person writing in the channel.
_CAPTURABLE_SUBTYPES = {None, "thread_broadcast", "file_share"}
EVENTS = (
    "reaction_added",
    "message",
    "app_mention",
    "app_home_opened",
    "app_uninstalled",
    "tokens_revoked",
)
UNINSTALLING = {"app_uninstalled", "tokens_revoked"}
Handler = Callable[[dict[str, Any], dict[str, Any], BoltContext, Services], None]


def _workspace(tenants: Tenants, context: BoltContext) -> str | None:
    return tenants.single or workspace_of(
        context.enterprise_id, context.team_id, bool(context.is_enterprise_install)
    )


def _mentions(text: str, bot_user_id: str | None) -> bool:
    """Whether a message mentions the bot: Slack sends it as an `app_mention` too, and one
    listener, that one, answers it."""
    return bool(bot_user_id) and f"<@{bot_user_id}" in text


def register(app: App, tenants: Tenants, installs: Installs, after_ack: AfterAck) -> None:
    workspaces = tenants.workspaces

    @app.middleware
    def platform(req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]) -> Any:
        """`app_rate_limited` is not an event callback (no listener can match it). With one bot
        token, anything else Slack sends from a workspace we stopped posting to means it
        reinstalled us (but not a retry: that may be an event from before the uninstall). With
        OAuth only an install does: a replica's cached token may outlive an uninstall."""
        body = req.body
        if body.get("type") == "app_rate_limited":
            workspaces.rate_limited(str(body.get("team_id")), body.get("minute_rate_limited"))
            return BoltResponse(status=200, body="")
        event_type = (body.get("event") or {}).get("type")
        retried = req.headers.get("x-slack-retry-num")
        if tenants.single is not None and event_type not in UNINSTALLING and not retried:
            workspaces.heard_from(tenants.single)
        return next()

    def on(event_type: str, handle: Handler) -> None:
        """Events are acked by Bolt; their work (database, Web API) runs on the after-ack pool,
        so Bolt's listener threads are never all waiting on a locked database."""

        @app.event(event_type)
        def listener(event: dict[str, Any], body: dict[str, Any], context: BoltContext) -> None:
            after_ack.run(
                body,
                context,
                lambda: handle(event, body, context, services_for(tenants, context)),
            )

    def uninstalling(event_type: str, revoked: Callable[[dict[str, Any]], bool]) -> None:
        """Uninstall events need no workspace services (its token may be dead already)."""

        @app.event(event_type)
        def listener(event: dict[str, Any], body: dict[str, Any], context: BoltContext) -> None:
            workspace_id = _workspace(tenants, context)
            sent_at = body.get("event_time")
            if workspace_id and revoked(event) and isinstance(sent_at, int):
                after_ack.run(
                    body,
                    context,
                    lambda: installs.uninstalled(
                        workspace_id, event_type, datetime.fromtimestamp(sent_at, UTC)
                    ),
                )

    def reaction(
        event: dict[str, Any], body: dict[str, Any], _: BoltContext, services: Services
    ) -> None:
        item = event.get("item", {})
        if item.get("type") != "message" or not isinstance(event.get("reaction"), str):
            return
        capture = services.capture
        kind = capture.routing_kind(item["channel"], normalise_emoji(event["reaction"]))
        if kind is None or not services.first_time(body["event_id"]):
            return
        capture.file_reaction(item["channel"], item["ts"], event["user"], kind)

    def message(
        event: dict[str, Any], body: dict[str, Any], context: BoltContext, services: Services
    ) -> None:
        if event.get("subtype") not in _CAPTURABLE_SUBTYPES or event.get("bot_id"):
            return
        text = str(event.get("text") or "")
        parsed = parse_capture(text)
        if parsed is None:
            if not _mentions(text, context.bot_user_id):  # else the app_mention listener's
                answer(event, body, services, text)
            return
        if not services.first_time(body["event_id"]):
            return
        source = SourceMessage.from_slack(event["channel"], event)
        services.capture.file_and_announce(
            Capture(parsed.kind, parsed.text, event["channel"], event["user"], source)
        )

    def answer(event: dict[str, Any], body: dict[str, Any], services: Services, text: str) -> bool:
        """A reply in the thread where a reporter was asked something answers it, when its
        reporter writes it: True then (or when it is a replay). Only thread replies with text
        cost a query (one, indexed)."""
        thread_ts, user_id = event.get("thread_ts"), event.get("user")
        if not thread_ts or thread_ts == event.get("ts") or not user_id or not text.strip():
            return False
        triage = services.triage
        asked = triage.items.asked_in_thread(event["channel"], thread_ts, user_id)
        if asked is None or asked.id is None:
            return False
        if services.first_time(body["event_id"]):
            with suppress(Refused):  # triaged since the lookup: the reply is only conversation
                triage.answered(asked.id, user_id, text)
        return True

    def mention(
        event: dict[str, Any], body: dict[str, Any], context: BoltContext, services: Services
    ) -> None:
        if parse_capture(event.get("text", "")) is not None:
            return  # a `feedback: … @Rolecall` message: the message listener files it
        text = strip_leading_mention(event.get("text", ""), context.bot_user_id or "")
        if answer(event, body, services, text):
            # "@Rolecall Enterprise, 300 seats" (or "@Rolecall feedback from Acme is …") in
            # the thread they were asked in: an answer, not a new item.
            return
        parsed = parse_capture(text, keyword_colon_required=False)
        if not services.first_time(body["event_id"]):
            return
        capture = services.capture
        if parsed is None:
            capture.post_ephemeral(
                event["channel"], event["user"], MENTION_HELP, event.get("thread_ts")
            )
            return
        source = SourceMessage.from_slack(event["channel"], event)
        capture.file_and_announce(
            Capture(
                parsed.kind, parsed.text, event["channel"], event["user"], source, via="mention"
            )
        )

    def home(event: dict[str, Any], _: dict[str, Any], __: BoltContext, services: Services) -> None:
        if event.get("tab") == "home":
            services.home.opened(event["user"], event.get("view"))

    uninstalling("app_uninstalled", lambda _: True)
    uninstalling("tokens_revoked", lambda event: bool((event.get("tokens") or {}).get("bot")))
    on("reaction_added", reaction)
    on("message", message)
    on("app_mention", mention)
    on("app_home_opened", home)
