"""Milestones and deadlines, and which blockers stand in a milestone's way."""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any, TypeVar

from sqlalchemy import case, func, or_, true, update
from sqlalchemy.orm import aliased
from sqlmodel import col, select

from storage.db import Database
from storage.items import QueuedItem
from storage.models import (
    OPEN_STATUSES,
    RISK_KINDS,
    Deadline,
    Item,
    ItemKind,
    ItemStatus,
    Level,
    Milestone,
    WorkStatus,
)

Dated = TypeVar("Dated", Milestone, Deadline)

OPEN_BLOCKER = (col(Item.kind) == ItemKind.BLOCKER) & col(Item.status).in_(
    OPEN_STATUSES[ItemKind.BLOCKER]
)
# An open risk (either kind) that is likely enough and would hurt: it puts its milestone at
# risk like an open blocker (`bot.risks.is_high` is the same rule).
HIGH_RISK = (
    or_(
        *(
            (col(Item.kind) == kind) & col(Item.status).in_(OPEN_STATUSES[kind])
            for kind in RISK_KINDS
        )
    )
    & (col(Item.impact) == Level.HIGH)
    & col(Item.likelihood).in_([Level.MEDIUM, Level.HIGH])
)


@dataclass(frozen=True)
class TrackedMilestone:
    """A milestone with its open linked blockers and high risks: any makes it at risk."""

    milestone: Milestone
    open_blockers: int
    high_risks: int = 0

    @property
    def at_risk(self) -> bool:
        return self.open_blockers > 0 or self.high_risks > 0


# The feedback planned into a milestone (why it exists), most +1'd first.
MOST_VOTED = (col(Item.vote_count).desc(), col(Item.created_at), col(Item.id))


def planned_feedback(workspace_id: str) -> tuple[Any, ...]:
    """Where planned feedback is: add the milestone (or milestones) it is planned into."""
    return (
        Item.workspace_id == workspace_id,
        Item.kind == ItemKind.FEEDBACK,
        Item.status == ItemStatus.PLANNED,
    )


class PlanningStore:
    def __init__(self, db: Database, workspace_id: str) -> None:
        self.db = db
        self.workspace_id = workspace_id

    # Milestones --------------------------------------------------------------------------

    def add_milestone(self, milestone: Milestone) -> bool:
        """Store a new milestone; False when the team already has one of that name."""
        milestone.workspace_id = self.workspace_id
        return self.db.add_new(milestone)

    def milestone(self, team_channel_id: str, name_key: str) -> Milestone | None:
        query = select(Milestone).where(
            Milestone.workspace_id == self.workspace_id,
            Milestone.team_channel_id == team_channel_id,
            Milestone.name_key == name_key,
        )
        with self.db.session() as session:
            return session.exec(query).first()

    def tracked(self, team_channel_id: str) -> list[TrackedMilestone]:
        """The team's open milestones, soonest first, with their open linked blockers."""
        return self._tracked(Milestone.team_channel_id == team_channel_id)

    def milestones_due_by(self, last_day: date) -> list[TrackedMilestone]:
        """Open milestones due on or before `last_day`, across every team."""
        return self._tracked(col(Milestone.due_date) <= last_day)

    def due_milestones(
        self, last_days: Mapping[str, date], limit: int
    ) -> tuple[list[TrackedMilestone], int]:
        """The open milestones of the teams in `last_days` due on or before each team's own
        last day (a date in its time zone; overdue ones too): up to `limit` of them, at risk
        first and then soonest, and how many there are in all. Teams sharing a last day share
        a condition: a read has one per distinct day (a handful), not one per team."""
        teams_by_day: dict[date, list[str]] = {}
        for team, last_day in last_days.items():
            teams_by_day.setdefault(last_day, []).append(team)
        if not teams_by_day:
            return [], 0
        due = or_(
            *(
                col(Milestone.team_channel_id).in_(teams) & (col(Milestone.due_date) <= last_day)
                for last_day, teams in teams_by_day.items()
            )
        )
        shown = self._tracked(due, at_risk_first=True, limit=limit)
        return shown, self._open_count(Milestone, due)

    def why(self, milestone_id: int, limit: int) -> tuple[list[QueuedItem], int]:
        """The feedback planned into a milestone (why it exists): up to `limit` items, most
        +1'd first, and how many there are in all."""
        where = (*planned_feedback(self.workspace_id), Item.milestone_id == milestone_id)
        shown = select(Item).where(*where).order_by(*MOST_VOTED).limit(limit)
        with self.db.session() as session:
            items = [QueuedItem(item, item.vote_count) for item in session.exec(shown)]
            total = session.exec(select(func.count()).select_from(Item).where(*where)).one()
        return items, int(total)

    def why_of(
        self, milestone_ids: Sequence[int], limit: int
    ) -> dict[int, tuple[list[QueuedItem], int]]:
        """`why` for several milestones in one read (App Home's milestone rows): each one's
        first `limit` items and how many in all; a milestone with none is left out."""
        if not milestone_ids:
            return {}
        per_milestone = col(Item.milestone_id)
        ranked = (
            select(
                Item,
                func.row_number()
                .over(
                    partition_by=per_milestone,
                    order_by=MOST_VOTED,
                )
                .label("rank"),
                func.count().over(partition_by=per_milestone).label("total"),
            )
            .where(*planned_feedback(self.workspace_id), per_milestone.in_(list(milestone_ids)))
            .subquery()
        )
        planned = aliased(Item, ranked)
        query = (
            select(planned, ranked.c.total)
            .where(ranked.c.rank <= limit)
            .order_by(ranked.c.milestone_id, ranked.c.rank)
        )
        found: dict[int, tuple[list[QueuedItem], int]] = {}
        with self.db.session() as session:
            for item, total in session.execute(query):
                assert item.milestone_id is not None
                items, _ = found.setdefault(item.milestone_id, ([], int(total)))
                items.append(QueuedItem(item, item.vote_count))
        return found

    def reschedule(self, milestone_id: int, due: date, now: datetime) -> bool:
        """Move an open milestone; its nudges are planned afresh from the new date. A new date
        is a new promise: its reminders are neither snoozed nor muted."""
        return self._set_open(
            Milestone,
            milestone_id,
            due_date=due,
            scheduled_at=now,
            snoozed_until=None,
            muted_by=None,
        )

    def freeze(self, milestone_id: int, day: date | None) -> bool:
        """Freeze an open milestone's scope from `day` (None: open it again)."""
        return self._set_open(Milestone, milestone_id, freeze_date=day)

    def _tracked(
        self, *where: Any, at_risk_first: bool = False, limit: int | None = None
    ) -> list[TrackedMilestone]:
        in_the_way = (
            select(
                col(Item.milestone_id),
                func.sum(case((OPEN_BLOCKER, 1), else_=0)).label("blockers"),
                func.sum(case((HIGH_RISK, 1), else_=0)).label("risks"),
            )
            .where(
                Item.workspace_id == self.workspace_id,
                col(Item.milestone_id).is_not(None),
                or_(OPEN_BLOCKER, HIGH_RISK),
            )
            .group_by(col(Item.milestone_id))
            .subquery()
        )
        open_blockers = func.coalesce(in_the_way.c.blockers, 0)
        high_risks = func.coalesce(in_the_way.c.risks, 0)
        order: list[Any] = [col(Milestone.due_date), col(Milestone.id)]
        if at_risk_first:
            order.insert(0, case((open_blockers + high_risks > 0, 0), else_=1))
        query = (
            select(Milestone, open_blockers, high_risks)
            .outerjoin(in_the_way, in_the_way.c.milestone_id == Milestone.id)
            .where(
                Milestone.workspace_id == self.workspace_id,
                Milestone.status == WorkStatus.OPEN,
                *where,
            )
            .order_by(*order)
            .limit(limit)
        )
        with self.db.session() as session:
            return [
                TrackedMilestone(m, int(blockers), int(risks))
                for m, blockers, risks in session.execute(query)
            ]

    # Deadlines ---------------------------------------------------------------------------

    def add_deadline(self, deadline: Deadline) -> Deadline:
        deadline.workspace_id = self.workspace_id
        with self.db.writing() as session:
            session.add(deadline)
            session.commit()
            session.refresh(deadline)
        return deadline

    def open_deadlines(self, team_channel_id: str) -> list[Deadline]:
        query = select(Deadline).where(
            Deadline.workspace_id == self.workspace_id,
            Deadline.team_channel_id == team_channel_id,
            Deadline.status == WorkStatus.OPEN,
        )
        with self.db.session() as session:
            return list(session.exec(query.order_by(col(Deadline.due_date), col(Deadline.id))))

    def overdue_in(
        self, teams: Sequence[str], now: datetime, zone: Callable[[str], tzinfo], limit: int
    ) -> tuple[list[Deadline], int]:
        """The teams' open deadlines whose due date has passed where their assignee is (their
        stored zone, read by `zone`), as their reminders count it: up to `limit`, most overdue
        first, and how many there are in all.

        No zone's date is more than a day behind or ahead of UTC's, so only the deadlines due
        yesterday or today (UTC) depend on the zone. One read counts the others together and
        those by due date and zone; the list then reads exactly the ones found overdue."""
        if not teams:
            return [], 0
        utc_today = now.astimezone(UTC).date()
        in_teams = col(Deadline.team_channel_id).in_(list(teams))
        past_everywhere = col(Deadline.due_date) < utc_today - timedelta(days=1)
        buckets = (
            select(
                case((past_everywhere, None), else_=col(Deadline.due_date)).label("due"),
                case((past_everywhere, None), else_=col(Deadline.assignee_tz)).label("tz"),
            )
            .where(
                Deadline.workspace_id == self.workspace_id,
                Deadline.status == WorkStatus.OPEN,
                in_teams,
                col(Deadline.due_date) <= utc_today,
            )
            .subquery()
        )
        counted = select(buckets.c.due, buckets.c.tz, func.count()).group_by(
            buckets.c.due, buckets.c.tz
        )
        total = 0
        zones_by_day: dict[date, list[str]] = {}
        with self.db.session() as session:
            for due, tz, count in session.execute(counted):
                if due is None:
                    total += count
                elif due < now.astimezone(zone(tz)).date():
                    total += count
                    zones_by_day.setdefault(due, []).append(tz)
        if not total:
            return [], 0
        overdue = or_(
            past_everywhere,
            *(
                (col(Deadline.due_date) == due) & col(Deadline.assignee_tz).in_(zones)
                for due, zones in zones_by_day.items()
            ),
        )
        return self._open_deadlines(in_teams, overdue, limit=limit), total

    def deadlines_of(self, assignee_id: str, limit: int) -> tuple[list[Deadline], int]:
        """One person's open deadlines in every team: up to `limit`, soonest first, and how
        many there are in all."""
        where = (col(Deadline.assignee_id) == assignee_id,)
        return self._open_deadlines(*where, limit=limit), self._open_count(Deadline, *where)

    def _open_deadlines(self, *where: Any, limit: int) -> list[Deadline]:
        query = (
            select(Deadline)
            .where(Deadline.workspace_id == self.workspace_id, Deadline.status == WorkStatus.OPEN)
            .where(*where)
            .order_by(col(Deadline.due_date), col(Deadline.id))
            .limit(limit)
        )
        with self.db.session() as session:
            return list(session.exec(query))

    def _open_count(self, table: type[Milestone] | type[Deadline], *where: Any) -> int:
        query = (
            select(func.count())
            .select_from(table)
            .where(
                col(table.workspace_id) == self.workspace_id,
                col(table.status) == WorkStatus.OPEN,
                *where,
            )
        )
        with self.db.session() as session:
            return int(session.exec(query).one())

    def deadlines_due_by(self, last_day: date) -> list[Deadline]:
        query = select(Deadline).where(
            Deadline.workspace_id == self.workspace_id,
            Deadline.status == WorkStatus.OPEN,
            col(Deadline.due_date) <= last_day,
        )
        with self.db.session() as session:
            return list(session.exec(query.order_by(col(Deadline.id))))

    def overdue_deadlines(self, team_channel_id: str, today: date, limit: int) -> list[Deadline]:
        query = (
            select(Deadline)
            .where(
                Deadline.workspace_id == self.workspace_id,
                Deadline.team_channel_id == team_channel_id,
                Deadline.status == WorkStatus.OPEN,
                col(Deadline.due_date) < today,
            )
            .order_by(col(Deadline.due_date), col(Deadline.id))
            .limit(limit)
        )
        with self.db.session() as session:
            return list(session.exec(query))

    # Both --------------------------------------------------------------------------------

    def dated(self, table: type[Dated], row_id: int) -> Dated | None:
        """This workspace's milestone or deadline with this id, open or not."""
        query = select(table).where(
            col(table.workspace_id) == self.workspace_id, col(table.id) == row_id
        )
        with self.db.session() as session:
            return session.exec(query).first()

    def snooze(self, table: type[Milestone] | type[Deadline], row_id: int, until: date) -> bool:
        """Hold an open, unmuted row's overdue reminders until `until` (local); a snooze only
        ever lengthens, so a click on an older copy never cuts a later snooze short."""
        return self._set_open(
            table,
            row_id,
            condition=col(table.muted_by).is_(None)
            & or_(col(table.snoozed_until).is_(None), col(table.snoozed_until) < until),
            snoozed_until=until,
        )

    def mute(self, table: type[Milestone] | type[Deadline], row_id: int, by: str) -> bool:
        """No more overdue reminders for an open row; the first to mute it is kept."""
        return self._set_open(table, row_id, condition=col(table.muted_by).is_(None), muted_by=by)

    def _set_open(
        self,
        table: type[Milestone] | type[Deadline],
        row_id: int,
        condition: Any = None,
        **values: Any,
    ) -> bool:
        """Set `values` on the row if it is open (and meets `condition`): a conditional update,
        so two clicks at once change it once. False when it did not (done, or already so)."""
        with self.db.writing() as session:
            result = session.execute(
                update(table)
                .where(
                    col(table.workspace_id) == self.workspace_id,
                    col(table.id) == row_id,
                    col(table.status) == WorkStatus.OPEN,
                    true() if condition is None else condition,
                )
                .values(**values)
            )
            session.commit()
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def close(
        self, table: type[Milestone] | type[Deadline], row_id: int, by: str, now: datetime
    ) -> bool:
        """Mark done once: a second close (another replica, a double click) changes nothing."""
        return self._set_open(table, row_id, status=WorkStatus.DONE, done_by=by, done_at=now)
