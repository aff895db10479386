"""What Rolecall reads about people from Slack: who is an admin, who is a person, their zone."""

from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.parsing.words import UsageError
from bot.schedule import is_zone


def zone_of(user: dict[str, Any]) -> str:
    """A profile's IANA time zone, as Slack gives it; UTC when missing or unknown here."""
    tz = str(user.get("tz") or "")
    return tz if is_zone(tz) else "UTC"


class People:
    def __init__(self, client: WebClient) -> None:
        self.client = client

    def profile(self, user_id: str) -> dict[str, Any]:
        """users.info; a user Slack does not know is a usage error, not a failure."""
        try:
            response = self.client.users_info(user=user_id)
        except SlackApiError as error:
            if error.response.get("error") == "user_not_found":
                raise UsageError(f"I can't find <@{user_id}> in this workspace.") from error
            raise
        user: dict[str, Any] = response["user"]
        return user

    def is_admin(self, user_id: str) -> bool:
        user = self.profile(user_id)
        return bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))

    def require_person(self, user_id: str, purpose: str) -> dict[str, Any]:
        """The profile of someone who must be a person: not a bot, not deactivated."""
        user = self.profile(user_id)
        if user.get("is_bot") or user.get("deleted"):
            raise UsageError(f"<@{user_id}> can't {purpose}: pick a person.")
        return user
