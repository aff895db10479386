"""Events API listeners: routing reactions, `feedback:` messages, mentions, App Home."""

from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse

from bot.capture import Capture, SourceMessage
from bot.parsing.team import normalise_emoji, parse_capture, strip_leading_mention
from handlers.services import Services

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


def register(app: App, services: Services) -> None:
    capture = services.capture
    workspaces = services.workspaces

    @app.middleware
    def platform(req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]) -> Any:
        """`app_rate_limited` is not an event callback (no listener can match it); anything
        else Slack sends from a workspace we stopped posting to means it reinstalled us."""
        body = req.body
        if body.get("type") == "app_rate_limited":
            workspaces.rate_limited(str(body.get("team_id")), body.get("minute_rate_limited"))
            return BoltResponse(status=200, body="")
        team_id = req.context.team_id
        if team_id and (body.get("event") or {}).get("type") not in UNINSTALLING:
            workspaces.heard_from(team_id)
        return next()

    @app.event("app_uninstalled")
    def uninstalled(body: dict[str, Any]) -> None:
        workspaces.uninstalled(str(body.get("team_id")), "app_uninstalled")

    @app.event("tokens_revoked")
    def revoked(event: dict[str, Any], body: dict[str, Any]) -> None:
        if (event.get("tokens") or {}).get("bot"):
            workspaces.uninstalled(str(body.get("team_id")), "tokens_revoked")

    @app.event("reaction_added")
    def reaction(event: dict[str, Any], body: dict[str, Any]) -> None:
        item = event.get("item", {})
        if item.get("type") != "message" or not isinstance(event.get("reaction"), str):
            return
        kind = capture.routing_kind(item["channel"], normalise_emoji(event["reaction"]))
        if kind is None or not capture.record_event(body["event_id"]):
            return
        capture.file_reaction(item["channel"], item["ts"], event["user"], kind)

    @app.event("message")
    def message(event: dict[str, Any], body: dict[str, Any]) -> None:
        if event.get("subtype") not in _CAPTURABLE_SUBTYPES or event.get("bot_id"):
            return
        parsed = parse_capture(event.get("text", ""))
        if parsed is None or not capture.record_event(body["event_id"]):
            return
        source = SourceMessage.from_slack(event["channel"], event)
        capture.file_and_announce(
            Capture(parsed.kind, parsed.text, event["channel"], event["user"], source)
        )

    @app.event("app_mention")
    def mention(event: dict[str, Any], body: dict[str, Any], context: BoltContext) -> None:
        if parse_capture(event.get("text", "")) is not None:
            return  # a `feedback: … @Rolecall` message: the message listener files it
        text = strip_leading_mention(event.get("text", ""), context.bot_user_id or "")
        parsed = parse_capture(text, keyword_colon_required=False)
        if not capture.record_event(body["event_id"]):
            return
        if parsed is None:
            capture.post_ephemeral(
                event["channel"], event["user"], MENTION_HELP, event.get("thread_ts")
            )
            return
        source = SourceMessage.from_slack(event["channel"], event)
        capture.file_and_announce(
            Capture(parsed.kind, parsed.text, event["channel"], event["user"], source)
        )

    @app.event("app_home_opened")
    def home(event: dict[str, Any]) -> None:
        if event.get("tab") == "home":
            services.home.publish(event["user"])
