"""Which nudges and escalations are due at an instant, planned from the database alone.

For each open milestone and deadline only its newest due nudge counts (so after downtime a
missed nudge is sent once, late, and a superseded "due tomorrow" is skipped). Every reminder
has a key naming the thing, the kind of send and its local day, so every runner plans the same
keys and the outbox posts each once.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.blocks.reminders import deadline_nudge, escalation, milestone_nudge, reminders
from bot.outbox import Outbox, Outcome
from bot.schedule import NUDGE_TIME, Stage, add_working_hours, current_nudge, local_instant, zone
from storage.items import ItemStore
from storage.models import Role, SendKind, TeamSettings
from storage.outbox import OutboxStore, Send
from storage.planning import PlanningStore
from storage.teams import TeamStore

# Far enough ahead that "tomorrow" in every time zone (UTC+14) is included.
LOOKAHEAD = timedelta(days=2)
# A blocker younger than this cannot have waited the smallest escalation threshold.
MIN_ESCALATION = timedelta(hours=1)


@dataclass(frozen=True)
class Planned:
    """One reminder the plan wants: its key, where it goes, its line of text, and when it was
    due (how late it is posted is measured from then)."""

    key: str
    destination: str
    line: str
    due_at: datetime


class Reminders:
    def __init__(
        self,
        planning: PlanningStore,
        items: ItemStore,
        teams: TeamStore,
        sends: OutboxStore,
        outbox: Outbox,
    ) -> None:
        self.planning = planning
        self.items = items
        self.teams = teams
        self.sends = sends
        self.outbox = outbox

    def due(self, at: datetime) -> list[Planned]:
        """Every nudge and escalation due at `at` that was not posted yet."""
        saved = self.teams.all_settings()
        defaults: dict[str, TeamSettings] = {}

        def settings(channel_id: str) -> TeamSettings:
            # Built once per team: a SQLModel object costs about 50 µs, and a tick plans
            # thousands of reminders.
            found = saved.get(channel_id) or defaults.get(channel_id)
            if found is None:
                found = defaults[channel_id] = TeamSettings(channel_id=channel_id)
            return found

        managers = self.teams.holders_by_channel(Role.PROJECT)
        planned: list[Planned] = []
        last_day = at.date() + LOOKAHEAD
        for tracked in self.planning.milestones_due_by(last_day):
            milestone = tracked.milestone
            channel = milestone.team_channel_id
            tz = zone(settings(channel).timezone)
            nudge = current_nudge(milestone.due_date, tz, at, milestone.scheduled_at)
            if nudge is None:
                continue
            pms = managers.get(channel, []) if nudge.stage is Stage.OVERDUE else []
            key = f"milestone:{milestone.id}:{milestone.due_date}:{nudge.day}"
            line = milestone_nudge(tracked, nudge, pms)
            planned.append(Planned(key, channel, line, local_instant(nudge.day, NUDGE_TIME, tz)))
        for deadline in self.planning.deadlines_due_by(last_day):
            assignee_tz = zone(deadline.assignee_tz)
            nudge = current_nudge(deadline.due_date, assignee_tz, at, deadline.scheduled_at)
            if nudge is None:
                continue
            base = f"deadline:{deadline.id}:{deadline.due_date}:{nudge.day}"
            due_at = local_instant(nudge.day, NUDGE_TIME, assignee_tz)
            assignee = deadline.assignee_id
            line = deadline_nudge(deadline, nudge, for_assignee=True)
            planned.append(Planned(f"{base}:{assignee}", assignee, line, due_at))
            if nudge.stage is Stage.OVERDUE:
                line = deadline_nudge(deadline, nudge, for_assignee=False)
                for pm in managers.get(deadline.team_channel_id, []):
                    if pm != assignee:
                        planned.append(Planned(f"{base}:{pm}", pm, line, due_at))
        for item in self.items.unacknowledged_blockers(at - MIN_ESCALATION):
            team = settings(item.team_channel_id)
            hours = team.escalation_hours
            due_at = add_working_hours(item.created_at, hours, zone(team.timezone))
            if due_at > at:
                continue
            pms = managers.get(item.team_channel_id, [])
            line = escalation(item, hours, pms)
            for destination in [*pms, item.team_channel_id]:
                key = f"escalation:{item.id}:{destination}"
                planned.append(Planned(key, destination, line, due_at))
        settled = self.sends.settled([p.key for p in planned])
        return [p for p in planned if p.key not in settled]

    def send(self, destination: str, planned: list[Planned], at: datetime) -> Outcome:
        """Everything due for one channel or person, as one message."""
        lines = {p.key: p.line for p in planned}
        label = "for you" if destination.startswith(("U", "W")) else f"for <#{destination}>"
        return self.outbox.send(
            [Send(p.key, SendKind.REMINDER) for p in planned],
            destination,
            lambda won: reminders(label, [lines[send.key] for send in won]),
            paced=True,
            due=min(p.due_at for p in planned),
        )
