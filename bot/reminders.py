"""Which nudges and escalations are due at an instant, planned from the database alone.

Quiet by construction: a channel nudge is due only while its team is at work, and a DM only
while its recipient is (their own zone, the team's working week and holidays, not away), so
what was due at night waits for the morning and is then sent once (`bot.nudges`). Every event
reaches each person once: an escalation goes by DM or as one channel post (a team setting),
never to whoever filed the blocker; overdue reminders back off and can be snoozed or muted.
Every reminder has a key naming the thing, the kind of send, its nudge day and its recipient,
so every runner plans the same keys and the outbox posts each once.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.blocks.reminders import (
    Subject,
    deadline_nudge,
    escalation,
    milestone_nudge,
    reminders,
)
from bot.nudges import DAILY_DAYS, Nudge, Stage, latest_nudge
from bot.outbox import Outbox, Outcome
from bot.working_time import WorkingTime
from storage.calendar import CalendarStore, Period
from storage.items import ItemStore
from storage.models import Deadline, EscalationDelivery, Milestone, Role, SendKind, TeamSettings
from storage.outbox import OutboxStore, Send
from storage.planning import PlanningStore
from storage.teams import Holder, TeamStore

# Far enough ahead to reach a due date whose "working day before" comes before a long break
# (two weeks of holidays and a weekend), in every time zone.
LOOKAHEAD = timedelta(days=21)
# A blocker younger than this cannot have waited the smallest escalation threshold.
MIN_ESCALATION = timedelta(hours=1)
# A blocker escalated this long ago has reached everyone it was for (whose working day may
# start a weekend and a 26-hour zone gap after the team's): later runs leave it out.
ESCALATED = timedelta(days=4)
# Holidays and time away this far back still decide which past days were nudge days.
DAYS_OFF_BACK = timedelta(days=60)
MANAGER_DAILY_DAYS = 1  # a project manager hears of someone else's slip once, then weekly


@dataclass(frozen=True)
class Planned:
    """One reminder the plan wants: its key, where it goes, its line of text, what it is about
    when it can be snoozed, and when it was due (how late it is posted is measured from then)."""

    key: str
    destination: str
    line: str
    due_at: datetime
    subject: Subject | None = None
    item_id: int | None = None  # an escalation's blocker: once escalated, it is not re-planned
    # Keys of sends that told the same people already (an escalation sent the other way,
    # before the team switched between DMs and a channel post): any settled, this one is moot.
    told_by: tuple[str, ...] = ()


class Calendar:
    """The working time of every team and person for one run: read once, built once each."""

    def __init__(
        self,
        settings: dict[str, TeamSettings],
        holidays: dict[str, frozenset[date]],
        away: dict[str, list[Period]],
    ) -> None:
        self.settings = settings
        self.holidays = holidays
        self.away = away
        self._teams: dict[str, WorkingTime] = {}
        self._people: dict[tuple[str, str, str], WorkingTime] = {}

    def team_settings(self, channel_id: str) -> TeamSettings:
        found = self.settings.get(channel_id)
        if found is None:
            # Built once per team: a SQLModel object costs about 50 µs, and a run plans
            # thousands of reminders.
            found = self.settings[channel_id] = TeamSettings(channel_id=channel_id)
        return found

    def team(self, channel_id: str) -> WorkingTime:
        found = self._teams.get(channel_id)
        if found is None:
            settings = self.team_settings(channel_id)
            found = WorkingTime.of_team(settings, self.holidays.get(channel_id, ()))
            self._teams[channel_id] = found
        return found

    def person(self, channel_id: str, user_id: str, tz: str) -> WorkingTime:
        """The team's working week in the person's own zone (the team's when not known),
        their time away as days off."""
        tz = tz or self.team_settings(channel_id).timezone
        key = (channel_id, user_id, tz)
        found = self._people.get(key)
        if found is None:
            found = self.team(channel_id).for_person(tz, self.away.get(user_id, ()))
            self._people[key] = found
        return found

    def is_away(self, channel_id: str, holder: Holder, at: datetime) -> bool:
        """Away today, in their own zone."""
        work = self.person(channel_id, holder.user_id, holder.tz)
        return work.off.away_on(work.today(at))


class Reminders:
    def __init__(
        self,
        planning: PlanningStore,
        items: ItemStore,
        teams: TeamStore,
        calendar: CalendarStore,
        sends: OutboxStore,
        outbox: Outbox,
    ) -> None:
        self.planning = planning
        self.items = items
        self.teams = teams
        self.calendar = calendar
        self.sends = sends
        self.outbox = outbox

    def due(self, at: datetime) -> list[Planned]:
        """Every nudge and escalation due at `at` that was not posted yet."""
        back = at.date() - DAYS_OFF_BACK
        calendar = Calendar(
            self.teams.all_settings(),
            self.calendar.holidays_by_team(back),
            {user: list(periods) for user, periods in self.calendar.away_by_person(back).items()},
        )
        managers = self.teams.holder_zones(Role.PROJECT)
        planned: list[Planned] = []
        self._milestones(at, calendar, managers, planned.append)
        self._deadlines(at, calendar, managers, planned.append)
        self._escalations(at, calendar, managers, planned.append)
        settled = self.sends.settled([k for p in planned for k in (p.key, *p.told_by)])
        return [p for p in planned if p.key not in settled and settled.isdisjoint(p.told_by)]

    def _milestones(
        self,
        at: datetime,
        calendar: Calendar,
        managers: dict[str, list[Holder]],
        plan: Callable[[Planned], None],
    ) -> None:
        """Due soon and due today: one line in the team channel (no one is pinged). Overdue:
        a DM to its owner (daily for a week, then weekly) and to the project managers (once,
        then weekly), snoozable."""
        for tracked in self.planning.milestones_due_by(at.date() + LOOKAHEAD):
            milestone = tracked.milestone
            assert milestone.id is not None
            channel = milestone.team_channel_id
            team = calendar.team(channel)
            slipped = milestone.due_date < team.today(at)
            nudge = (
                None
                if slipped
                else latest_nudge(milestone.due_date, team, at, milestone.scheduled_at)
            )
            if nudge is not None and nudge.stage is not Stage.OVERDUE:
                key = f"milestone:{milestone.id}:{milestone.due_date}:{nudge.day}"
                line = milestone_nudge(tracked, nudge)
                plan(Planned(key, channel, line, team.opens(nudge.day)))
            if milestone.muted_by is not None or not slipped:
                continue
            holders = managers.get(channel, [])
            owner = milestone.owner_id
            owner_tz = milestone.owner_tz or _zone_of(owner, holders, team) if owner else ""
            recipients = [(Holder(owner, owner_tz), DAILY_DAYS)] if owner else []
            recipients += [
                (h, DAILY_DAYS if not owner else MANAGER_DAILY_DAYS)
                for h in holders
                if h.user_id != owner
            ]
            subject = Subject("milestone", milestone.id)
            for holder, daily_days in recipients:
                work = calendar.person(channel, holder.user_id, holder.tz)
                nudge = _nudge(milestone, work, at, daily_days)
                if nudge is None or nudge.stage is not Stage.OVERDUE:
                    continue
                key = (
                    f"milestone-overdue:{milestone.id}:{milestone.due_date}:{nudge.day}"
                    f":{holder.user_id}"
                )
                line = milestone_nudge(tracked, nudge)
                plan(Planned(key, holder.user_id, line, work.opens(nudge.day), subject))

    def _deadlines(
        self,
        at: datetime,
        calendar: Calendar,
        managers: dict[str, list[Holder]],
        plan: Callable[[Planned], None],
    ) -> None:
        """The assignee by DM: the working day before, on the day, then overdue with back-off.
        The team's project managers: once when it slips, then weekly."""
        for deadline in self.planning.deadlines_due_by(at.date() + LOOKAHEAD):
            assert deadline.id is not None
            channel = deadline.team_channel_id
            assignee = Holder(deadline.assignee_id, deadline.assignee_tz)
            subject = Subject("deadline", deadline.id)
            recipients = [(assignee, DAILY_DAYS)]
            # Slipped by the assignee's calendar (the date is theirs), not a manager's ahead of it.
            assignee_today = calendar.person(channel, assignee.user_id, assignee.tz).today(at)
            if deadline.due_date < assignee_today:
                recipients += [
                    (h, MANAGER_DAILY_DAYS)
                    for h in managers.get(channel, [])
                    if h.user_id != assignee.user_id
                ]
            for holder, daily_days in recipients:
                work = calendar.person(channel, holder.user_id, holder.tz)
                nudge = _nudge(deadline, work, at, daily_days)
                if nudge is None:
                    continue
                overdue = nudge.stage is Stage.OVERDUE
                if holder is not assignee and not overdue:
                    continue
                if overdue and deadline.muted_by is not None:
                    continue
                key = f"deadline:{deadline.id}:{deadline.due_date}:{nudge.day}:{holder.user_id}"
                line = deadline_nudge(deadline, nudge, for_assignee=holder is assignee)
                plan(
                    Planned(
                        key,
                        holder.user_id,
                        line,
                        work.opens(nudge.day),
                        subject if overdue else None,
                    )
                )

    def _escalations(
        self,
        at: datetime,
        calendar: Calendar,
        managers: dict[str, list[Holder]],
        plan: Callable[[Planned], None],
    ) -> None:
        """A blocker not acknowledged within the team's threshold of working hours goes to its
        project managers who did not file it and are not away (or, failing them, whoever set
        the team up): by DM in each one's working hours, or as one post in the team channel."""
        founders: dict[str, Holder] | None = None
        for item in self.items.unacknowledged_blockers(at - MIN_ESCALATION, at - ESCALATED):
            channel = item.team_channel_id
            settings = calendar.team_settings(channel)
            team = calendar.team(channel)
            due_at = team.add_working_hours(item.created_at, settings.escalation_hours)
            if due_at > at:
                continue
            recipients = [
                h
                for h in managers.get(channel, [])
                if h.user_id != item.reporter_id and not calendar.is_away(channel, h, at)
            ]
            if not recipients:
                if founders is None:
                    founders = self._founders(managers)
                founder = founders.get(channel)
                if (
                    founder is None
                    or founder.user_id == item.reporter_id
                    or calendar.is_away(channel, founder, at)
                ):
                    continue
                recipients = [founder]
            hours = settings.escalation_hours
            in_channel = f"escalation:{item.id}:{channel}"
            by_dm = tuple(f"escalation:{item.id}:{h.user_id}" for h in recipients)
            if settings.escalate_by is EscalationDelivery.CHANNEL:
                if team.is_open(at):
                    line = escalation(item, hours, [h.user_id for h in recipients])
                    plan(Planned(in_channel, channel, line, due_at, None, item.id, by_dm))
                continue
            line = escalation(item, hours, [])
            for holder, key in zip(recipients, by_dm, strict=True):
                work = calendar.person(channel, holder.user_id, holder.tz)
                if work.is_open(at):
                    due = work.next_opening(due_at)
                    plan(Planned(key, holder.user_id, line, due, None, item.id, (in_channel,)))

    def _founders(self, managers: dict[str, list[Holder]]) -> dict[str, Holder]:
        """Who set each team up, in their own zone when they hold a role there (else the
        team's)."""
        zones = {
            (channel, h.user_id): h.tz
            for holders in (managers, self.teams.holder_zones(Role.PRODUCT))
            for channel, team_holders in holders.items()
            for h in team_holders
        }
        return {
            channel: Holder(user, zones.get((channel, user), ""))
            for channel, user in self.teams.founders().items()
        }

    def send(self, destination: str, planned: list[Planned], at: datetime) -> Outcome:
        """Everything due for one channel or person, as one message."""
        entries = {p.key: p for p in planned}
        label = "for you" if destination.startswith(("U", "W")) else f"for <#{destination}>"
        return self.outbox.send(
            [Send(p.key, SendKind.REMINDER, p.item_id) for p in planned],
            destination,
            lambda won: reminders(
                label, [(entries[s.key].line, entries[s.key].subject) for s in won]
            ),
            paced=True,
            due=min(p.due_at for p in planned),
        )


def _nudge(
    dated: Milestone | Deadline, work: WorkingTime, at: datetime, daily_days: int
) -> Nudge | None:
    """Its newest nudge due at `at` for one recipient, snooze included."""
    return latest_nudge(
        dated.due_date, work, at, dated.scheduled_at, daily_days, dated.snoozed_until
    )


def _zone_of(user_id: str, holders: list[Holder], team: WorkingTime) -> str:
    """A milestone owner's zone: theirs when they hold the role, else the team's."""
    for holder in holders:
        if holder.user_id == user_id:
            return holder.tz
    return team.tz.key
