"""Every "who may" rule, and the refusal each one gives.

- A team's roles, settings and digest: its role holders and workspace admins; anyone while the
  channel has no roles (someone has to start).
- Milestones (and other people's deadlines): the team's project managers and workspace admins;
  anyone while the team has no project manager.
- Triage: holders of the role that owns the item, nobody else (not even an admin).
- Exports: the team's role holders and workspace admins; nobody else, even while the channel
  has no roles (an export takes the queue out of Slack).
- The roadmap (its themes and which milestones deliver them): the team's product managers,
  nobody else.
"""

from bot.blocks.common import ROLE_LABEL
from bot.people import People
from storage.models import Deadline, Item, Role
from storage.teams import TeamStore


class Refused(Exception):
    """Someone asked for what their role does not allow; the message is the reply to show."""


class Permissions:
    def __init__(self, teams: TeamStore, people: People) -> None:
        self.teams = teams
        self.people = people

    def require_team_manager(self, channel_id: str, user_id: str, what: str) -> None:
        assignments = self.teams.roles(channel_id)
        if not assignments or any(a.user_id == user_id for a in assignments):
            return
        if not self.people.is_admin(user_id):
            raise Refused(
                f"Sorry, only the people who hold a role in <#{channel_id}> (or a workspace "
                f"admin) can {what}."
            )

    def require_exporter(self, channel_id: str, user_id: str, what: str) -> None:
        if any(a.user_id == user_id for a in self.teams.roles(channel_id)):
            return
        if not self.people.is_admin(user_id):
            raise Refused(
                f"Sorry, only the people who hold a role in <#{channel_id}> (or a workspace "
                f"admin) can {what}."
            )

    def require_planner(self, channel_id: str, user_id: str, what: str) -> None:
        managers = self.teams.holders(channel_id, Role.PROJECT)
        if not managers or user_id in managers:
            return
        if not self.people.is_admin(user_id):
            raise Refused(
                f"Sorry, only the project manager of <#{channel_id}> (or a workspace admin) can "
                f"{what}. Ask them, or see `/milestone list`."
            )

    def require_deadline_setter(self, channel_id: str, user_id: str, assignee_id: str) -> None:
        """Anyone may set their own deadline; one for someone else is a DM in Rolecall's name,
        so only the team's project managers (or an admin) may send it."""
        if assignee_id == user_id or user_id in self.teams.holders(channel_id, Role.PROJECT):
            return
        if not self.people.is_admin(user_id):
            raise Refused(
                f"Sorry, only the project manager of <#{channel_id}> (or a workspace admin) can "
                "set a deadline for someone else. You can set your own: "
                "`/deadline task YYYY-MM-DD`."
            )

    def require_deadline_closer(self, deadline: Deadline, user_id: str) -> None:
        if user_id not in {deadline.assignee_id, deadline.created_by}:
            self.require_planner(deadline.team_channel_id, user_id, "close someone else's deadline")

    def require_role(self, channel_id: str, user_id: str, role: Role, what: str) -> None:
        """Only the team's holders of `role`: not an admin, nor anyone while nobody holds it."""
        if user_id not in self.teams.holders(channel_id, role):
            raise Refused(f"Sorry, only the {ROLE_LABEL[role]} of <#{channel_id}> can {what}.")

    def require_owner(self, item: Item, user_id: str, what: str) -> None:
        role = item.kind.owner_role
        if user_id not in self.teams.holders(item.team_channel_id, role):
            raise Refused(
                f"Sorry, only the {ROLE_LABEL[role]} of <#{item.team_channel_id}> can {what}."
            )
