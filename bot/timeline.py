"""The project manager's calendar: milestones, deadlines, digest settings, and digest content.

Milestones belong to the channel's project managers (and workspace admins); while a team has no
project manager, anyone may manage them. Deadlines belong to the person who owes them.
"""

from datetime import date, datetime, timedelta

from bot import time_blocks
from bot.commands import (
    AddDeadline,
    AddMilestone,
    CloseDeadline,
    CloseMilestone,
    DeadlineCommand,
    ListDeadlines,
    ListMilestones,
    MilestoneCommand,
    MoveMilestone,
    ScheduleDigest,
    UsageError,
    name_key,
)
from bot.schedule import local_today, zone
from bot.service import Rolecall
from bot.text import safe_mrkdwn
from bot.time_blocks import Digest, day_label
from storage.models import Deadline, Item, ItemKind, Milestone, Role
from storage.store import Store

WEEK = timedelta(days=7)
HORIZON = timedelta(days=14)


class Timeline:
    def __init__(self, service: Rolecall) -> None:
        self.service = service
        self.store: Store = service.store

    # Helpers -----------------------------------------------------------------------------

    def today(self, channel_id: str, now: datetime | None = None) -> date:
        """The date in the team's time zone."""
        tz = zone(self.store.settings(channel_id).timezone)
        return local_today(now or self.service.clock(), tz)

    def may_plan(self, channel_id: str, user_id: str) -> bool:
        """Project managers plan; with none assigned anyone may; admins always may."""
        managers = self.store.holders(channel_id, Role.PROJECT)
        if not managers or user_id in managers:
            return True
        return self.service.is_workspace_admin(user_id)

    def _refuse(self, channel_id: str, what: str) -> str:
        return (
            f"Sorry, only the project manager of <#{channel_id}> (or a workspace admin) can "
            f"{what}. Ask them, or see `/milestone list`."
        )

    def _future(self, channel_id: str, due: date) -> None:
        today = self.today(channel_id)
        if due < today:
            raise UsageError(
                f"{day_label(due)} is in the past (today is {day_label(today)} in "
                f"<#{channel_id}>'s time zone): pick a date from today on."
            )

    def _named(self, channel_id: str, name: str) -> Milestone:
        milestone = self.store.milestone(channel_id, name_key(name))
        if milestone is None or milestone.status != "open":
            names = ", ".join(
                f"*{safe_mrkdwn(t.milestone.name, 80)[0]}*"
                for t in self.store.tracked_milestones(channel_id)[:10]
            )
            hint = f" Open ones: {names}." if names else " There are no open milestones."
            raise UsageError(
                f"<#{channel_id}> has no open milestone called *{safe_mrkdwn(name, 80)[0]}*.{hint}"
            )
        return milestone

    # Milestones --------------------------------------------------------------------------

    def run_milestone_command(
        self, channel_id: str, actor_id: str, command: MilestoneCommand
    ) -> str:
        if isinstance(command, ListMilestones):
            tracked = self.store.tracked_milestones(channel_id)
            return time_blocks.milestone_list(channel_id, tracked, self.today(channel_id))
        if not self.may_plan(channel_id, actor_id):
            return self._refuse(channel_id, "change its milestones")
        now = self.service.clock()
        label = safe_mrkdwn(command.name, time_blocks.NAME_LIMIT)[0]
        if isinstance(command, AddMilestone):
            self._future(channel_id, command.due)
            if command.owner_id:
                self.service.require_person(command.owner_id, "own a milestone")
            milestone = Milestone(
                team_channel_id=channel_id,
                name=" ".join(command.name.split()),
                name_key=name_key(command.name),
                due_date=command.due,
                owner_id=command.owner_id,
                created_by=actor_id,
                created_at=now,
                scheduled_at=now,
            )
            if not self.store.add_milestone(milestone):
                raise UsageError(
                    f"<#{channel_id}> already has a milestone called *{label}*: "
                    "`/milestone move` changes its date."
                )
            owner = f", owned by <@{command.owner_id}>" if command.owner_id else ""
            return (
                f"Milestone *{label}* added for {day_label(command.due)}{owner}. I'll nudge "
                f"<#{channel_id}> the day before, on the day, and daily if it slips."
            )
        milestone = self._named(channel_id, command.name)
        assert milestone.id is not None
        label = safe_mrkdwn(milestone.name, time_blocks.NAME_LIMIT)[0]
        if isinstance(command, MoveMilestone):
            self._future(channel_id, command.due)
            self.store.reschedule_milestone(milestone.id, command.due, now)
            return (
                f"Milestone *{label}* moved from {day_label(milestone.due_date)} to "
                f"{day_label(command.due)}; its reminders follow the new date."
            )
        assert isinstance(command, CloseMilestone)
        if not self.store.close_milestone(milestone.id, actor_id, now):
            return f"Milestone *{label}* was already done."
        return f"Milestone *{label}* is done. :tada: No more reminders for it."

    # Deadlines ---------------------------------------------------------------------------

    def run_deadline_command(self, channel_id: str, actor_id: str, command: DeadlineCommand) -> str:
        if isinstance(command, ListDeadlines):
            return time_blocks.deadline_list(
                channel_id, self.store.open_deadlines(channel_id), self.today(channel_id)
            )
        now = self.service.clock()
        if isinstance(command, AddDeadline):
            assignee = command.assignee_id or actor_id
            person = self.service.require_person(assignee, "own a deadline")
            tz_name = str(person.get("tz") or "UTC")
            due = command.due
            if due < local_today(now, zone(tz_name)):
                raise UsageError(f"{day_label(due)} is in the past: pick a date from today on.")
            deadline = self.store.add_deadline(
                Deadline(
                    team_channel_id=channel_id,
                    task=command.task,
                    due_date=due,
                    assignee_id=assignee,
                    assignee_tz=tz_name,
                    created_by=actor_id,
                    created_at=now,
                    scheduled_at=now,
                )
            )
            task = safe_mrkdwn(command.task, 300)[0]
            if assignee != actor_id:
                self.service.notify(
                    assignee,
                    f"<@{actor_id}> set you a deadline in <#{channel_id}>: *{task}*, due "
                    f"{day_label(due)}. I'll remind you the day before and on the day.",
                )
            return (
                f"Deadline `{deadline.id}` *{task}* set for <@{assignee}> on {day_label(due)}. "
                "I'll remind them by DM the day before and on the day (09:00 their time)."
            )
        assert isinstance(command, CloseDeadline)
        deadline = self._deadline(channel_id, command.reference)
        assert deadline.id is not None
        allowed = {deadline.assignee_id, deadline.created_by}
        if actor_id not in allowed and not self.may_plan(channel_id, actor_id):
            return self._refuse(channel_id, "close someone else's deadline")
        task = safe_mrkdwn(deadline.task, 300)[0]
        if not self.store.close_deadline(deadline.id, actor_id, now):
            return f"Deadline *{task}* was already done."
        return f"Deadline *{task}* is done. :white_check_mark:"

    def _deadline(self, channel_id: str, reference: str) -> Deadline:
        open_ones = self.store.open_deadlines(channel_id)
        wanted = name_key(reference)
        for deadline in open_ones:
            if str(deadline.id) == reference or name_key(deadline.task) == wanted:
                return deadline
        raise UsageError(
            f"<#{channel_id}> has no open deadline `{safe_mrkdwn(reference, 80)[0]}`: "
            "`/deadline list` shows their numbers."
        )

    # Digest settings and content ---------------------------------------------------------

    def schedule_digest(self, channel_id: str, actor_id: str, command: ScheduleDigest) -> str:
        if not self.service.can_manage(channel_id, actor_id):
            return (
                f"Sorry, only the people who hold a role in <#{channel_id}> (or a workspace "
                "admin) can change its digest."
            )
        settings = self.store.settings(channel_id)
        settings.digest_weekday = command.weekday
        settings.digest_hour, settings.digest_minute = command.wall.hour, command.wall.minute
        if command.timezone:
            settings.timezone = command.timezone
        self.store.save_settings(settings)
        return time_blocks.schedule_summary(settings)

    def digest(self, channel_id: str, now: datetime, week_of: date | None = None) -> Digest:
        """The team's digest as of `now`: the week before it, and what lies ahead."""
        today = self.today(channel_id, now)
        since = now - WEEK
        product = self.store.product_digest(channel_id, since, time_blocks.DIGEST_ITEMS)
        project = self.store.project_digest(
            channel_id, since, today, today + HORIZON, time_blocks.DIGEST_ITEMS
        )
        start = week_of or today - timedelta(days=today.weekday())
        return Digest(
            parent=time_blocks.digest_parent(channel_id, start),
            replies={
                Role.PRODUCT: time_blocks.product_reply(
                    channel_id, self.store.holders(channel_id, Role.PRODUCT), product, now
                ),
                Role.PROJECT: time_blocks.project_reply(
                    channel_id, self.store.holders(channel_id, Role.PROJECT), project, now, today
                ),
            },
        )

    # Blockers and milestones -------------------------------------------------------------

    def link_blocker(self, item: Item) -> str | None:
        """Link a blocker whose text ends in `#<milestone name>` to that milestone; returns the
        milestone's name as mrkdwn, or None when the text names no open milestone."""
        if item.kind != ItemKind.BLOCKER or "#" not in item.text or item.id is None:
            return None
        text = name_key(item.text)
        for tracked in self.store.tracked_milestones(item.team_channel_id):
            milestone = tracked.milestone
            if text.endswith("#" + milestone.name_key) and milestone.id is not None:
                self.store.link_blocker(item.id, milestone.id)
                return safe_mrkdwn(milestone.name, time_blocks.NAME_LIMIT)[0]
        return None
