"""Who holds which role where, and each team's settings: the tables that make a channel a team."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy
from sqlalchemy import String, and_, bindparam, delete, func
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


def routing_query(*columns: Any) -> Any:
    """A team's queue channels and the holders of one role (`workspace_id`, `channel_id`,
    `role` params), oldest holder first, in one query: one row per holder, or one row with no
    holder; `columns` come first in every row (the filing statement adds its own)."""
    team = select(
        bindparam("workspace_id", type_=String).label("workspace_id"),
        bindparam("channel_id", type_=String).label("channel_id"),
    ).subquery("team")
    return (
        sqlalchemy.select(
            *columns,
            col(TeamSettings.product_queue_channel),
            col(TeamSettings.project_queue_channel),
            col(RoleAssignment.user_id),
        )
        .select_from(team)
        .outerjoin(
            TeamSettings,
            and_(
                col(TeamSettings.workspace_id) == team.c.workspace_id,
                col(TeamSettings.channel_id) == team.c.channel_id,
            ),
        )
        .outerjoin(
            RoleAssignment,
            and_(
                col(RoleAssignment.workspace_id) == team.c.workspace_id,
                col(RoleAssignment.channel_id) == team.c.channel_id,
                col(RoleAssignment.role) == bindparam("role"),
            ),
        )
        .order_by(col(RoleAssignment.assigned_at), col(RoleAssignment.id))
    )


_ROUTING = routing_query()


@dataclass(frozen=True)
class Routing:
    """Where a team's cards for one role go: its holders' DMs, or the team's queue channel."""

    holders: list[str]
    queue_channel: str | None

    @property
    def recipients(self) -> list[str]:
        return [self.queue_channel] if self.queue_channel else self.holders

    @classmethod
    def of(cls, rows: Sequence[Sequence[Any]], role: Role) -> "Routing":
        """From `routing_query` rows: its last three columns."""
        product_queue, project_queue = rows[0][-3], rows[0][-2]
        holders = [row[-1] for row in rows if row[-1] is not None]
        return cls(holders, product_queue if role is Role.PRODUCT else project_queue)


@dataclass(frozen=True)
class Holder:
    """A role holder and their Slack time zone."""

    user_id: str
    tz: str


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
        with self.db.reading() as connection:
            found = connection.execute(_HOLDERS, self._params(channel_id, role=role))
            return list(found.scalars())

    def routing(self, channel_id: str, role: Role) -> Routing:
        """The role's holders and the team's queue channel for it, in one query."""
        with self.db.reading() as connection:
            rows = connection.execute(_ROUTING, self._params(channel_id, role=role)).all()
        return Routing.of(rows, role)

    def assign(
        self, channel_id: str, user_id: str, role: Role, by: str, now: datetime, tz: str = "UTC"
    ) -> int | None:
        """Give `user_id` the role; returns the new assignment's id, None if they held it.
        `tz`: their Slack time zone, so their DMs wait for their working day."""
        assignment = RoleAssignment(
            workspace_id=self.workspace_id,
            channel_id=channel_id,
            user_id=user_id,
            role=role,
            assigned_by=by,
            assigned_at=now,
            tz=tz,
        )
        return assignment.id if self.db.add_new(assignment) else None

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

    def holder_zones(self, role: Role) -> dict[str, list[Holder]]:
        """Every team's holders of one role with their time zones, oldest holder first."""
        query = (
            select(RoleAssignment.channel_id, RoleAssignment.user_id, RoleAssignment.tz)
            .where(self._mine, RoleAssignment.role == role)
            .order_by(col(RoleAssignment.assigned_at), col(RoleAssignment.id))
        )
        found: dict[str, list[Holder]] = {}
        with self.db.session() as session:
            for channel, user, tz in session.execute(query):
                found.setdefault(channel, []).append(Holder(user, tz))
        return found

    def founders(self) -> dict[str, str]:
        """Who set each team up: whoever gave its first role (the fallback for escalations
        when every project manager is away)."""
        ranked = select(
            RoleAssignment.channel_id,
            RoleAssignment.assigned_by,
            func.row_number()
            .over(
                partition_by=col(RoleAssignment.channel_id),
                order_by=(col(RoleAssignment.assigned_at), col(RoleAssignment.id)),
            )
            .label("rank"),
        ).where(self._mine)
        first = ranked.subquery()
        query = sqlalchemy.select(first.c.channel_id, first.c.assigned_by).where(first.c.rank == 1)
        with self.db.session() as session:
            return {channel: by for channel, by in session.execute(query)}

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
