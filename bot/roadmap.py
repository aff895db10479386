"""The product manager's quarters: roadmap themes, the milestones that deliver them, and
`/milestone show` (a milestone with why it exists)."""

from collections.abc import Callable
from datetime import date

from bot.blocks.common import Message, day_label, plural, quoted_name
from bot.blocks.milestone import IN_THE_WAY_SHOWN, WHY_SHOWN, MilestoneFacts, milestone_view
from bot.blocks.roadmap import ThemeOnRoadmap, roadmap_view
from bot.clock import Clock
from bot.parsing.roadmap import (
    AddTheme,
    LinkMilestone,
    RemoveTheme,
    RoadmapCommand,
    ShowRoadmap,
    UnlinkMilestone,
)
from bot.parsing.words import UsageError, name_key
from bot.permissions import Permissions
from bot.schedule import local_today, zone
from storage.models import Milestone, Role, Theme
from storage.planning import PlanningStore, TrackedMilestone
from storage.roadmap import DeliveryStore, MilestoneState, Quarter, ThemeStore
from storage.teams import TeamStore

ROADMAP_THEMES = 40  # themes read for one roadmap: more than its 50 blocks can show
YEARS_AHEAD = 5  # a theme further out is a typo (and 9999-Q4 would end past the calendar)

# The scope creep accepted into each of a team's milestones (`HandoffStore.accepted_creep`).
AcceptedCreep = Callable[[str], dict[int, int]]


class Roadmap:
    def __init__(
        self,
        themes: ThemeStore,
        planning: PlanningStore,
        deliveries: DeliveryStore,
        teams: TeamStore,
        permissions: Permissions,
        accepted_creep: AcceptedCreep,
        clock: Clock,
    ) -> None:
        self.themes = themes
        self.planning = planning
        self.deliveries = deliveries
        self.teams = teams
        self.permissions = permissions
        self.accepted_creep = accepted_creep
        self.clock = clock

    def run(self, channel_id: str, actor_id: str, command: RoadmapCommand) -> str | list[Message]:
        if isinstance(command, ShowRoadmap):
            return [self.view(channel_id)]
        self.permissions.require_role(channel_id, actor_id, Role.PRODUCT, "change its roadmap")
        if isinstance(command, AddTheme):
            return self._add(channel_id, actor_id, command)
        if isinstance(command, LinkMilestone):
            return self._link(channel_id, command)
        if isinstance(command, UnlinkMilestone):
            return self._unlink(channel_id, command.milestone)
        assert isinstance(command, RemoveTheme)
        return self._remove(channel_id, command.name)

    def view(self, channel_id: str) -> Message:
        today = self.today(channel_id)
        current = Quarter.of(today)
        themes, total = self.themes.on_roadmap(channel_id, current, ROADMAP_THEMES)
        linked = self.themes.milestones([t.id for t in themes if t.id is not None])
        at_risk = {t.milestone.id for t in self.planning.tracked(channel_id) if t.at_risk}
        shown = []
        for theme in themes:
            quarter = Quarter.of_theme(theme)
            milestones = [
                (m, MilestoneState.of(m, m.id in at_risk, today, quarter))
                for m in linked.get(theme.id or 0, [])
            ]
            shown.append(ThemeOnRoadmap(theme, milestones))
        return roadmap_view(channel_id, current, shown, total)

    def show_milestone(self, channel_id: str, name: str) -> Message:
        """Any of the team's milestones, open or done, with why it exists."""
        milestone = self._milestone(channel_id, name)
        assert milestone.id is not None
        why, why_total = self.planning.why(milestone.id, WHY_SHOWN)
        in_the_way = self.deliveries.in_the_way(milestone.id, IN_THE_WAY_SHOWN)
        tracked = TrackedMilestone(milestone, in_the_way.blocker_total, in_the_way.risk_total)
        theme = self.themes.get(milestone.theme_id) if milestone.theme_id else None
        quarter = Quarter.of_theme(theme) if theme else None
        state = MilestoneState.of(milestone, tracked.at_risk, self.today(channel_id), quarter)
        creep = self.accepted_creep(channel_id).get(milestone.id)
        facts = MilestoneFacts(tracked, state, theme, why, why_total, in_the_way, creep)
        return milestone_view(facts)

    def today(self, channel_id: str) -> date:
        return local_today(self.clock(), zone(self.teams.settings(channel_id).timezone))

    def _add(self, channel_id: str, actor_id: str, command: AddTheme) -> str:
        current = Quarter.of(self.today(channel_id))
        if command.quarter < current:
            raise UsageError(
                f"{command.quarter} is over (it is {current} in <#{channel_id}>'s time zone): "
                "pick this quarter or a later one."
            )
        if command.quarter.year > current.year + YEARS_AHEAD:
            raise UsageError(
                f"{command.quarter} is too far out: a roadmap here reaches {YEARS_AHEAD} years "
                f"ahead, to {current.year + YEARS_AHEAD}."
            )
        theme = Theme(
            team_channel_id=channel_id,
            name=" ".join(command.name.split()),
            name_key=name_key(command.name),
            year=command.quarter.year,
            quarter=command.quarter.number,
            created_by=actor_id,
            created_at=self.clock(),
        )
        label = quoted_name(theme.name)
        if not self.themes.add(theme):
            existing = self.themes.named(channel_id, theme.name_key)
            when = f" ({Quarter.of_theme(existing)})" if existing else ""
            raise UsageError(f"<#{channel_id}> already has a theme called *{label}*{when}.")
        return (
            f"Theme *{label}* is on <#{channel_id}>'s roadmap for {command.quarter}. Link the "
            f'milestones that deliver it: `/roadmap link "{label}" &lt;milestone&gt;`.'
        )

    def _link(self, channel_id: str, command: LinkMilestone) -> str:
        by_key = {t.name_key: t for t in self.themes.of_team(channel_id)}
        theme, milestone, wanted = None, None, command.splits[-1][1]
        for theme_name, milestone_name in command.splits:
            found = by_key.get(name_key(theme_name))
            if found is None:
                continue
            theme, wanted = found, milestone_name
            milestone = self.planning.milestone(channel_id, name_key(milestone_name))
            if milestone is not None:
                break
        if theme is None:
            named = command.splits[0][0] if len(command.splits) == 1 else None
            raise UsageError(self._no_theme(channel_id, named))
        if milestone is None:
            milestone = self._milestone(channel_id, wanted)
        assert theme.id is not None and milestone.id is not None
        self.themes.link(milestone.id, theme.id)
        quarter = Quarter.of_theme(theme)
        label, theme_label = quoted_name(milestone.name), quoted_name(theme.name)
        reply = f"Milestone *{label}* now delivers *{theme_label}* ({quarter})."
        previous = milestone.theme_id
        if previous is not None and previous != theme.id:
            earlier = self.themes.get(previous)
            if earlier is not None:
                reply += f" It no longer delivers *{quoted_name(earlier.name)}*."
        if milestone.due_date > quarter.last_day:
            reply += (
                f" :warning: It is due {day_label(milestone.due_date)}, after {quarter} ends "
                f"({day_label(quarter.last_day)}): it shows as slipped until it moves."
            )
        return reply

    def _unlink(self, channel_id: str, name: str) -> str:
        milestone = self._milestone(channel_id, name)
        assert milestone.id is not None
        label = quoted_name(milestone.name)
        theme = self.themes.get(milestone.theme_id) if milestone.theme_id else None
        if theme is None:
            return f"Milestone *{label}* delivers no theme."
        self.themes.link(milestone.id, None)
        return f"Milestone *{label}* no longer delivers *{quoted_name(theme.name)}*."

    def _remove(self, channel_id: str, name: str) -> str:
        theme = self.themes.named(channel_id, name_key(name))
        unlinked = self.themes.remove(theme.id) if theme and theme.id else None
        if theme is None or unlinked is None:
            raise UsageError(self._no_theme(channel_id, name))
        freed = ""
        if unlinked:
            verb = "delivers" if unlinked == 1 else "deliver"
            freed = f"; {plural(unlinked, 'milestone')} no longer {verb} it"
        label = quoted_name(theme.name)
        return f"Theme *{label}* ({Quarter.of_theme(theme)}) is off the roadmap{freed}."

    def _milestone(self, channel_id: str, name: str) -> Milestone:
        """The team's milestone of that name (open or done), or a reply naming open ones."""
        milestone = self.planning.milestone(channel_id, name_key(name))
        if milestone is not None:
            return milestone
        names = ", ".join(
            f"*{quoted_name(t.milestone.name, 80)}*" for t in self.planning.tracked(channel_id)[:10]
        )
        hint = f" Open ones: {names}." if names else " There are no open milestones."
        raise UsageError(
            f"<#{channel_id}> has no milestone called *{quoted_name(name, 80)}*.{hint}"
        )

    def _no_theme(self, channel_id: str, name: str | None) -> str:
        """No theme of that name (None: unquoted words that start with no theme's name)."""
        current = Quarter.of(self.today(channel_id))
        themes = self.themes.on_roadmap(channel_id, current, 10)[0]
        names = ", ".join(f"*{quoted_name(t.name, 80)}*" for t in themes)
        hint = f" Themes: {names}." if names else " It has none yet: `/roadmap add` adds one."
        if name is None:
            return (
                f"I can't tell which theme of <#{channel_id}> you mean: put it in quotes, "
                f'e.g. `/roadmap link "Self-serve onboarding" Public beta`.{hint}'
            )
        return f"<#{channel_id}> has no theme called *{quoted_name(name, 80)}*.{hint}"
