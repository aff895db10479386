"""The project manager's calendar: milestones (and the blockers in their way) and deadlines."""

from datetime import date, datetime, timedelta

from bot.blocks.common import NAME_LIMIT, Message, day_label, quoted_name
from bot.blocks.lists import deadline_list, milestone_list, risk_reason
from bot.blocks.reminders import schedule_promise, slip_promise
from bot.clock import Clock
from bot.home import Home
from bot.milestone_news import MilestoneNews
from bot.notices import Notices
from bot.nudges import upcoming_nudges
from bot.parsing.planning import (
    AddDeadline,
    AddMilestone,
    CloseDeadline,
    CloseMilestone,
    DeadlineCommand,
    FreezeMilestone,
    ListDeadlines,
    ListMilestones,
    MilestoneCommand,
    MoveMilestone,
    ShowMilestone,
)
from bot.parsing.words import UsageError, name_key
from bot.people import People, zone_of
from bot.permissions import Permissions
from bot.roadmap import Roadmap
from bot.schedule import local_today, zone
from bot.team_webhooks import Webhooks
from bot.working_time import WorkingTime
from storage.calendar import CalendarStore
from storage.models import Deadline, Milestone, Role, WorkStatus
from storage.planning import PlanningStore
from storage.teams import TeamStore

# The holidays a confirmation looks at: enough past ones for the "day before" of a date after a
# long break, and at most a year's worth of rows.
HOLIDAYS_BACK = timedelta(days=30)
HOLIDAYS_READ = 400


class Planning:
    def __init__(
        self,
        store: PlanningStore,
        teams: TeamStore,
        permissions: Permissions,
        people: People,
        notices: Notices,
        webhooks: Webhooks,
        clock: Clock,
        roadmap: Roadmap,
        news: MilestoneNews,
        calendar: CalendarStore,
        home: Home,
    ) -> None:
        self.calendar = calendar
        self.home = home
        self.store = store
        self.teams = teams
        self.permissions = permissions
        self.people = people
        self.notices = notices
        self.webhooks = webhooks
        self.clock = clock
        self.roadmap = roadmap
        self.news = news

    def today(self, channel_id: str, now: datetime | None = None) -> date:
        """The date in the team's time zone."""
        return local_today(now or self.clock(), zone(self.teams.settings(channel_id).timezone))

    def working_time(self, channel_id: str) -> WorkingTime:
        """The team's working week and holidays (the days its reminders may land on)."""
        since = self.today(channel_id) - HOLIDAYS_BACK
        holidays = [h.day for h in self.calendar.holidays(channel_id, since, HOLIDAYS_READ)]
        return WorkingTime.of_team(self.teams.settings(channel_id), holidays)

    def milestone_named_in(self, team_channel_id: str, text: str) -> Milestone | None:
        """The open milestone whose name ends the text after a `#` (`… #Public beta`)."""
        if "#" not in text:
            return None
        wanted = name_key(text)
        for tracked in self.store.tracked(team_channel_id):
            if wanted.endswith("#" + tracked.milestone.name_key):
                return tracked.milestone
        return None

    def open_milestone(self, team_channel_id: str, milestone_id: int) -> Milestone | None:
        """The team's open milestone with this id (one picked in a modal), if it is one."""
        for tracked in self.store.tracked(team_channel_id):
            if tracked.milestone.id == milestone_id:
                return tracked.milestone
        return None

    # Milestones --------------------------------------------------------------------------

    def run_milestone_command(
        self, channel_id: str, actor_id: str, command: MilestoneCommand
    ) -> str | list[Message]:
        if isinstance(command, ListMilestones):
            tracked = self.store.tracked(channel_id)
            return milestone_list(channel_id, tracked, self.today(channel_id))
        if isinstance(command, ShowMilestone):
            return [self.roadmap.show_milestone(channel_id, command.name)]
        self.permissions.require_planner(channel_id, actor_id, "change its milestones")
        if isinstance(command, AddMilestone):
            return self._add_milestone(channel_id, actor_id, command)
        milestone = self._open_milestone(channel_id, command.name)
        assert milestone.id is not None
        label = quoted_name(milestone.name)
        if isinstance(command, MoveMilestone):
            self._from_today(channel_id, command.due)
            moved = self.store.reschedule(milestone.id, command.due, self.clock())
            if moved and command.due != milestone.due_date:
                self.news.moved(milestone, command.due, actor_id)
                self._milestone_changed(milestone)
            return (
                f"Milestone *{label}* moved from {day_label(milestone.due_date)} to "
                f"{day_label(command.due)}; its reminders follow the new date."
            )
        if isinstance(command, FreezeMilestone):
            return self._freeze(channel_id, milestone, command.day)
        assert isinstance(command, CloseMilestone)
        now = self.clock()
        # Done is the project manager's call; what was still in its way stays open, and is said.
        in_the_way = next(
            (t for t in self.store.tracked(channel_id) if t.milestone.id == milestone.id), None
        )
        if not self.store.close(Milestone, milestone.id, actor_id, now):
            return f"Milestone *{label}* was already done."
        milestone.status, milestone.done_by, milestone.done_at = WorkStatus.DONE, actor_id, now
        self.webhooks.milestone_done(milestone)
        self._milestone_changed(milestone)
        told = self.news.shipped(milestone, actor_id)
        people = f"{told:,} person" if told == 1 else f"{told:,} people"
        shipped = f" I'm telling the {people} who asked for what it delivers." if told else ""
        left = (
            f" Still open, and not closed by this: {risk_reason(in_the_way)}."
            if in_the_way is not None and in_the_way.at_risk
            else ""
        )
        return f"Milestone *{label}* is done. :tada: No more reminders for it.{shipped}{left}"

    def _add_milestone(self, channel_id: str, actor_id: str, command: AddMilestone) -> str:
        self._from_today(channel_id, command.due)
        owner_tz = None
        if command.owner_id:
            owner_tz = zone_of(self.people.require_person(command.owner_id, "own a milestone"))
        now = self.clock()
        milestone = Milestone(
            team_channel_id=channel_id,
            name=" ".join(command.name.split()),
            name_key=name_key(command.name),
            due_date=command.due,
            owner_id=command.owner_id,
            owner_tz=owner_tz,
            created_by=actor_id,
            created_at=now,
            scheduled_at=now,
        )
        label = quoted_name(command.name, NAME_LIMIT)
        if not self.store.add_milestone(milestone):
            raise UsageError(
                f"<#{channel_id}> already has a milestone called *{label}*: "
                "`/milestone move` changes its date."
            )
        self._milestone_changed(milestone)
        owner = f", owned by <@{command.owner_id}>" if command.owner_id else ""
        work = self.working_time(channel_id)
        days = upcoming_nudges(command.due, work, now)
        promise = schedule_promise(days, work, f"<#{channel_id}>", work.tz.key)
        if command.owner_id:
            slips = slip_promise(f"<@{command.owner_id}> hears by DM", managers_too=True)
        else:
            slips = slip_promise("the project managers hear by DM", managers_too=False)
        return f"Milestone *{label}* added for {day_label(command.due)}{owner}. {promise} {slips}"

    def _freeze(self, channel_id: str, milestone: Milestone, day: date | None) -> str:
        """Freeze a milestone's scope from `day` (None: open it again): from then on, feedback
        planned into it waits for the project manager's OK (`bot.handoff`)."""
        assert milestone.id is not None
        label = quoted_name(milestone.name)
        if day is not None and day > milestone.due_date:
            raise UsageError(
                f"*{label}* is due {day_label(milestone.due_date)}: freeze its scope on or "
                "before that day."
            )
        self.store.freeze(milestone.id, day)
        if day is None:
            return (
                f"*{label}*'s scope is open again: feedback planned into it no longer needs the "
                "project manager's OK."
            )
        if day <= self.today(channel_id):
            return (
                f"*{label}*'s scope is frozen (since {day_label(day)}): feedback planned into it "
                f"now needs the project manager's OK. It is due {day_label(milestone.due_date)}."
            )
        return (
            f"From {day_label(day)}, feedback planned into *{label}* needs the project "
            f"manager's OK. It is due {day_label(milestone.due_date)}."
        )

    def _milestone_changed(self, milestone: Milestone) -> None:
        """Refresh the Homes that show the milestone: its team's project managers (its date,
        its risk) and, when it delivers a roadmap theme, its product managers (the theme's
        progress)."""
        team = milestone.team_channel_id
        people = self.teams.holders(team, Role.PROJECT)
        if milestone.theme_id is not None:
            people += self.teams.holders(team, Role.PRODUCT)
        self.home.refresh_soon(people)

    def _deadline_changed(self, deadline: Deadline) -> None:
        """Refresh the Homes that show the deadline: its assignee's, and its team's project
        managers' while it is overdue (the only deadlines their Home lists: due before today
        in the assignee's zone)."""
        people = [deadline.assignee_id]
        if deadline.due_date < local_today(self.clock(), zone(deadline.assignee_tz)):
            people += self.teams.holders(deadline.team_channel_id, Role.PROJECT)
        self.home.refresh_soon(people)

    def _from_today(self, channel_id: str, due: date) -> None:
        today = self.today(channel_id)
        if due < today:
            raise UsageError(
                f"{day_label(due)} is in the past (today is {day_label(today)} in "
                f"<#{channel_id}>'s time zone): pick a date from today on."
            )

    def _open_milestone(self, channel_id: str, name: str) -> Milestone:
        milestone = self.store.milestone(channel_id, name_key(name))
        if milestone is None or milestone.status is not WorkStatus.OPEN:
            names = ", ".join(
                f"*{quoted_name(t.milestone.name, 80)}*"
                for t in self.store.tracked(channel_id)[:10]
            )
            hint = f" Open ones: {names}." if names else " There are no open milestones."
            raise UsageError(
                f"<#{channel_id}> has no open milestone called *{quoted_name(name, 80)}*.{hint}"
            )
        return milestone

    # Deadlines ---------------------------------------------------------------------------

    def run_deadline_command(self, channel_id: str, actor_id: str, command: DeadlineCommand) -> str:
        if isinstance(command, ListDeadlines):
            deadlines = self.store.open_deadlines(channel_id)
            return deadline_list(channel_id, deadlines, self.today(channel_id))
        if isinstance(command, AddDeadline):
            return self._add_deadline(channel_id, actor_id, command)
        assert isinstance(command, CloseDeadline)
        deadline = self._open_deadline(channel_id, command.reference)
        assert deadline.id is not None
        self.permissions.require_deadline_closer(deadline, actor_id)
        task = quoted_name(deadline.task, 300)
        if not self.store.close(Deadline, deadline.id, actor_id, self.clock()):
            return f"Deadline *{task}* was already done."
        self._deadline_changed(deadline)
        return f"Deadline *{task}* is done. :white_check_mark:"

    def _add_deadline(self, channel_id: str, actor_id: str, command: AddDeadline) -> str:
        assignee = command.assignee_id or actor_id
        self.permissions.require_deadline_setter(channel_id, actor_id, assignee)
        person = self.people.require_person(assignee, "own a deadline")
        tz_name = zone_of(person)
        now = self.clock()
        if command.due < local_today(now, zone(tz_name)):
            raise UsageError(f"{day_label(command.due)} is in the past: pick a date from today on.")
        deadline = self.store.add_deadline(
            Deadline(
                team_channel_id=channel_id,
                task=command.task,
                due_date=command.due,
                assignee_id=assignee,
                assignee_tz=tz_name,
                created_by=actor_id,
                created_at=now,
                scheduled_at=now,
            )
        )
        self._deadline_changed(deadline)
        task = quoted_name(command.task, 300)
        work = self.working_time(channel_id).for_person(
            tz_name, self.calendar.away_of(assignee, local_today(now, zone(tz_name)))
        )
        days = upcoming_nudges(command.due, work, now)
        if assignee != actor_id:
            promise = schedule_promise(days, work, "you", "your time")
            self.notices.dm(
                f"deadline-set:{deadline.id}",
                assignee,
                f"<@{actor_id}> set you a deadline in <#{channel_id}>: *{task}*, due "
                f"{day_label(command.due)}. {promise} {slip_promise('I remind you', False)}",
            )
        whom, when = ("you", "your time") if assignee == actor_id else ("them", "their time")
        promise = schedule_promise(days, work, f"{whom} by DM", when)
        slips = slip_promise(f"I remind {whom}", managers_too=True)
        return (
            f"Deadline `{deadline.id}` *{task}* set for <@{assignee}> on "
            f"{day_label(command.due)}. {promise} {slips}"
        )

    def _open_deadline(self, channel_id: str, reference: str) -> Deadline:
        wanted = name_key(reference)
        for deadline in self.store.open_deadlines(channel_id):
            if str(deadline.id) == reference or name_key(deadline.task) == wanted:
                return deadline
        raise UsageError(
            f"<#{channel_id}> has no open deadline `{quoted_name(reference, 80)}`: "
            "`/deadline list` shows their numbers."
        )
