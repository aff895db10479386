"""Who holds which role where, and each team's settings: the tables that make a channel a team."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, delete, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from storage.db import Database
from storage.models import Role, RoleAssignment, TeamSettings

# Run on every routed item: prebuilt once, since building a statement per call costs more than
# the database work itself.
_HOLDERS = (
    select(RoleAssignment.user_id)
    .where(
        RoleAssignment.workspace_id == bindparam("workspace_id"),
        RoleAssignment.channel_id == bindparam("channel_id"),
        RoleAssignment.role == bindparam("role"),
    )
    .order_by(col(RoleAssignment.assigned_at), col(RoleAssignment.id))
)
_QUEUE_CHANNELS = select(
    TeamSettings.product_queue_channel, TeamSettings.project_queue_channel
).where(
    TeamSettings.workspace_id == bindparam("workspace_id"),
    TeamSettings.channel_id == bindparam("channel_id"),
)


@dataclass(frozen=True)
class Routing:
    """Where a team's cards for one role go: its holders' DMs, or the team's queue channel."""

    holders: list[str]
    queue_channel: str | None

    @property
    def recipients(self) -> list[str]:
        return [self.queue_channel] if self.queue_channel else self.holders


@dataclass(frozen=True)
class Team:
    """A channel with roles, its settings, and when its first role was taken."""

    settings: TeamSettings
    since: datetime


class TeamStore:
    def __init__(self, db: Database, workspace_id: str) -> None:
        self.db = db
        self.workspace_id = workspace_id
        self._mine = col(RoleAssignment.workspace_id) == workspace_id

    # Roles -------------------------------------------------------------------------------

    def roles(self, channel_id: str) -> list[RoleAssignment]:
        query = (
            select(RoleAssignment)
            .where(self._mine, RoleAssignment.channel_id == channel_id)
            .order_by(col(RoleAssignment.role), col(RoleAssignment.assigned_at))
        )
        with self.db.session() as session:
            return list(session.exec(query))

    def holders(self, channel_id: str, role: Role) -> list[str]:
        with self.db.engine.connect() as connection:
            found = connection.execute(_HOLDERS, self._params(channel_id, role=role))
            return list(found.scalars())

    def routing(self, channel_id: str, role: Role) -> Routing:
        """The role's holders and the team's queue channel for it, on one connection."""
        with self.db.engine.connect() as connection:
            found = connection.execute(_HOLDERS, self._params(channel_id, role=role))
            holders = list(found.scalars())
            queues = connection.execute(_QUEUE_CHANNELS, self._params(channel_id)).first()
        if queues is None:
            return Routing(holders, None)
        return Routing(holders, queues[0] if role is Role.PRODUCT else queues[1])

    def assign(
        self, channel_id: str, user_id: str, role: Role, by: str, now: datetime
    ) -> int | None:
        """Give `user_id` the role; returns the new assignment's id, None if they held it."""
        assignment = RoleAssignment(
            workspace_id=self.workspace_id,
            channel_id=channel_id,
            user_id=user_id,
            role=role,
            assigned_by=by,
            assigned_at=now,
        )
        with self.db.writing() as session:
            session.add(assignment)
            try:
                session.commit()
            except IntegrityError:
                return None
        return assignment.id

    def remove(self, channel_id: str, user_id: str, role: Role) -> bool:
        with self.db.writing() as session:
            result = session.execute(
                delete(RoleAssignment).where(
                    self._mine,
                    col(RoleAssignment.channel_id) == channel_id,
                    col(RoleAssignment.user_id) == user_id,
                    col(RoleAssignment.role) == role,
                )
            )
            session.commit()
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def roles_of(self, user_id: str) -> list[RoleAssignment]:
        query = select(RoleAssignment).where(self._mine, RoleAssignment.user_id == user_id)
        with self.db.session() as session:
            return list(session.exec(query.order_by(col(RoleAssignment.channel_id))))

    def holders_by_channel(self, role: Role) -> dict[str, list[str]]:
        """Every team's holders of one role, in one query."""
        query = (
            select(RoleAssignment.channel_id, RoleAssignment.user_id)
            .where(self._mine, RoleAssignment.role == role)
            .order_by(col(RoleAssignment.assigned_at), col(RoleAssignment.id))
        )
        found: dict[str, list[str]] = {}
        with self.db.session() as session:
            for channel, user in session.execute(query):
                found.setdefault(channel, []).append(user)
        return found

    def teams(self) -> list[Team]:
        """Every channel with roles, with its settings (defaults when it never changed any)."""
        first_role = (
            select(RoleAssignment.channel_id, func.min(RoleAssignment.assigned_at))
            .where(self._mine)
            .group_by(col(RoleAssignment.channel_id))
            .order_by(col(RoleAssignment.channel_id))
        )
        with self.db.session() as session:
            rows = list(session.execute(first_role))
        saved = self.all_settings()
        return [
            Team(saved.get(channel) or self._defaults(channel), since) for channel, since in rows
        ]

    # Settings ----------------------------------------------------------------------------

    def settings(self, channel_id: str) -> TeamSettings:
        with self.db.session() as session:
            found = session.get(TeamSettings, (self.workspace_id, channel_id))
            return found or self._defaults(channel_id)

    def save_settings(self, settings: TeamSettings) -> None:
        settings.workspace_id = self.workspace_id
        with self.db.writing() as session:
            session.merge(settings)
            session.commit()

    def all_settings(self) -> dict[str, TeamSettings]:
        """Every channel's saved settings; channels missing here use the defaults."""
        with self.db.session() as session:
            query = select(TeamSettings).where(TeamSettings.workspace_id == self.workspace_id)
            return {s.channel_id: s for s in session.exec(query)}

    def _defaults(self, channel_id: str) -> TeamSettings:
        return TeamSettings(workspace_id=self.workspace_id, channel_id=channel_id)

    def _params(self, channel_id: str, **more: object) -> dict[str, object]:
        return {"workspace_id": self.workspace_id, "channel_id": channel_id, **more}
