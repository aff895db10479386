"""Events API listeners: routing reactions, `feedback:` messages, mentions, App Home."""

from typing import Any

from slack_bolt import App, BoltContext

from bot.commands import normalise_emoji, parse_capture, strip_leading_mention
from bot.service import Rolecall, SourceMessage

MENTION_HELP = (
    "Tell me `feedback: …` or `blocker: …` and I'll file it for this channel's product or "
    "project manager. `/role` shows who they are."
)
# Plain messages and the subtypes that are still a person writing in the channel.
_CAPTURABLE_SUBTYPES = {None, "thread_broadcast", "file_share"}
EVENTS = ("reaction_added", "message", "app_mention", "app_home_opened")


def register(app: App, service: Rolecall) -> None:
    @app.event("reaction_added")
    def reaction(event: dict[str, Any], body: dict[str, Any]) -> None:
        item = event.get("item", {})
        if item.get("type") != "message":
            return
        kind = service.routing_kind(item["channel"], normalise_emoji(event["reaction"]))
        if kind is None or not service.first_time(body["event_id"]):
            return
        service.file_from_reaction(item["channel"], item["ts"], event["user"], kind)

    @app.event("message")
    def message(event: dict[str, Any], body: dict[str, Any]) -> None:
        if event.get("subtype") not in _CAPTURABLE_SUBTYPES or event.get("bot_id"):
            return
        capture = parse_capture(event.get("text", ""))
        if capture is None or not service.first_time(body["event_id"]):
            return
        service.file_from_message(capture, _source(event), event["user"])

    @app.event("app_mention")
    def mention(event: dict[str, Any], body: dict[str, Any], context: BoltContext) -> None:
        if parse_capture(event.get("text", "")) is not None:
            return  # a `feedback: … @Rolecall` message: the message listener files it
        text = strip_leading_mention(event.get("text", ""), context.bot_user_id or "")
        capture = parse_capture(text, keyword_colon_required=False)
        if not service.first_time(body["event_id"]):
            return
        if capture is None:
            service.tell(event["channel"], event["user"], MENTION_HELP, event.get("thread_ts"))
            return
        service.file_from_message(capture, _source(event), event["user"])

    @app.event("app_home_opened")
    def home(event: dict[str, Any]) -> None:
        if event.get("tab") == "home":
            service.publish_home(event["user"])


def _source(event: dict[str, Any]) -> SourceMessage:
    return SourceMessage(
        channel_id=event["channel"],
        ts=event["ts"],
        text=event.get("text", ""),
        author_id=event.get("user"),
        thread_ts=event.get("thread_ts"),
    )
