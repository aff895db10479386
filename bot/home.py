"""App Home: published when someone opens Rolecall's Home tab."""

from slack_sdk import WebClient

from bot.blocks.home import home_view
from storage.teams import TeamStore


class Home:
    def __init__(self, teams: TeamStore, client: WebClient) -> None:
        self.teams = teams
        self.client = client

    def publish(self, user_id: str) -> None:
        self.client.views_publish(
            user_id=user_id, view=home_view(user_id, self.teams.roles_of(user_id))
        )
