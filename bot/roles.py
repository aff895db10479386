"""/role: who holds which role in a team; a new holder receives what waited for the role."""

from bot.blocks.cards import kind_noun
from bot.blocks.common import ROLE_LABEL, plural
from bot.blocks.lists import roles_summary
from bot.cards import Cards
from bot.clock import Clock
from bot.handoff import Handoffs
from bot.home import Home
from bot.membership import Membership
from bot.notices import Notices
from bot.parsing.team import AssignRole, ListRoles, RemoveRole, RoleCommand
from bot.parsing.words import UsageError
from bot.people import People, zone_of
from bot.permissions import Permissions
from storage.models import ItemKind, Role
from storage.teams import TeamStore

# Up to this many items that waited for a role reach its new holder as cards; more, as one
# message that points to Home.
CARDS_FOR_WAITING = 5
# What a role receives: its queue's kind, then its kind of risk.
KINDS_OF = {role: [kind for kind in ItemKind if kind.owner_role is role] for role in Role}


class Roles:
    def __init__(
        self,
        teams: TeamStore,
        permissions: Permissions,
        people: People,
        cards: Cards,
        notices: Notices,
        home: Home,
        handoffs: Handoffs,
        clock: Clock,
        membership: Membership,
    ) -> None:
        self.home = home
        self.handoffs = handoffs
        self.teams = teams
        self.permissions = permissions
        self.people = people
        self.cards = cards
        self.notices = notices
        self.clock = clock
        self.membership = membership

    def run(self, channel_id: str, actor_id: str, command: RoleCommand) -> str:
        """Apply a /role command and return the reply for the person who typed it."""
        if isinstance(command, ListRoles):
            return roles_summary(channel_id, self.teams.roles(channel_id))
        self.permissions.require_team_manager(channel_id, actor_id, "change its roles")
        label = ROLE_LABEL[command.role]
        who = f"<@{command.user_id}>"
        if isinstance(command, RemoveRole):
            if self.teams.remove(channel_id, command.user_id, command.role):
                self.home.refresh_soon([command.user_id])
                return f"{who} is no longer the {label} of <#{channel_id}>."
            return f"{who} was not the {label} of <#{channel_id}>."
        assert isinstance(command, AssignRole)
        person = self.people.require_person(command.user_id, "hold a role")
        self._require_member(channel_id, command.user_id)
        assignment = self.teams.assign(
            channel_id,
            command.user_id,
            command.role,
            actor_id,
            self.clock(),
            tz=zone_of(person),  # their DMs wait for their own working day
        )
        if assignment is None:
            return f"{who} is already the {label} of <#{channel_id}>."
        waiting = self._hand_over(channel_id, command.user_id, command.role, assignment)
        if command.role is Role.PROJECT:
            waiting += self._hand_over_proposals(channel_id, command.user_id)
        self.home.refresh_soon([command.user_id])
        if command.user_id != actor_id:
            self.notices.dm(
                f"role:{assignment}",
                command.user_id,
                f"<@{actor_id}> made you the {label} of <#{channel_id}>.",
            )
        return f"{who} is now the {label} of <#{channel_id}>." + waiting

    def _require_member(self, channel_id: str, user_id: str) -> None:
        """A role shows the team's items to its holder: only to someone in its channel."""
        among = self.membership.members_among([channel_id], user_id, recheck_absent=True)
        if not among.channels:
            raise UsageError(
                among.note()
                or f"<@{user_id}> is not in <#{channel_id}>: invite them to the channel first, "
                "then give them the role."
            )

    def _hand_over(self, channel_id: str, user_id: str, role: Role, assignment: int) -> str:
        """What waited for the role goes to its new holder: a few items as cards, a backlog
        as one message (a card each would flood them, and Slack's rate limits with them).
        Returns what the reply adds."""
        counts = self.cards.items.count_waiting
        waiting = {kind: n for kind in KINDS_OF[role] if (n := counts(channel_id, kind))}
        total = sum(waiting.values())
        if not total:
            return ""
        if total <= CARDS_FOR_WAITING:
            sent = sum(
                self.cards.deliver_waiting(channel_id, kind, CARDS_FOR_WAITING) for kind in waiting
            )
            return f" I sent {plural(sent, 'waiting item')} to them." if sent else ""
        what = " and ".join(plural(n, _waiting_noun(kind)) for kind, n in waiting.items())
        lists = " and ".join(f"`/{_command(kind)} list`" for kind in waiting)
        self.notices.dm(
            f"waiting:{assignment}",  # once per role taken
            user_id,
            f"{what} in <#{channel_id}> waited for a {ROLE_LABEL[role]} and are yours now. "
            f"Work through them in Rolecall's *Home* tab (oldest first), or with {lists}.",
        )
        return f" {plural(total, 'item')} waited for the role: I told them in one message."

    def _hand_over_proposals(self, channel_id: str, user_id: str) -> str:
        """Plans waiting for a project manager's answer reach the new one too: the cards went
        to whoever held the role then, who may leave it. Returns what the reply adds."""
        sent = self.handoffs.hand_over(channel_id, user_id)
        if not sent:
            return ""
        return f" I sent them {plural(sent, 'proposal')} waiting for a project manager's answer."


def _waiting_noun(kind: ItemKind) -> str:
    return f"{kind.value} item" if not kind.is_risk else kind_noun(kind)


def _command(kind: ItemKind) -> str:
    return "risk" if kind.is_risk else kind.value
