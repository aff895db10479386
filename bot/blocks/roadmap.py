"""The roadmap: a team's themes by quarter, each with the milestones that deliver it."""

from collections.abc import Sequence
from dataclasses import dataclass

from slack_sdk.models.blocks import Block

from bot.blocks.common import (
    MESSAGE_BLOCKS,
    Message,
    capped,
    context,
    day_label,
    plural,
    quoted_name,
    render_blocks,
    section,
)
from storage.models import Milestone, Theme
from storage.roadmap import MilestoneState, Quarter

STATE_LABEL = {
    MilestoneState.DONE: ":white_check_mark: done",
    MilestoneState.SLIPPED: ":rotating_light: slipped",
    MilestoneState.AT_RISK: ":warning: at risk",
    MilestoneState.ON_TRACK: ":large_green_circle: on track",
}
THEME_MILESTONES = 10  # milestone lines per theme: a theme's section stays under 3,000 chars
ROADMAP_USAGE_HINT = '`/roadmap add "&lt;theme&gt;" &lt;YYYY-Qn&gt;`'


@dataclass(frozen=True)
class ThemeOnRoadmap:
    """A theme and its milestones (soonest first), each with its state."""

    theme: Theme
    milestones: Sequence[tuple[Milestone, MilestoneState]]

    @property
    def done(self) -> int:
        return sum(1 for _, state in self.milestones if state is MilestoneState.DONE)


def roadmap_view(
    channel_id: str, current: Quarter, themes: Sequence[ThemeOnRoadmap], total: int
) -> Message:
    """One section per quarter heading and per theme, within Slack's 50 blocks; `total` is
    how many themes there are in all (more than `themes` when the read was capped)."""
    if not themes:
        text = (
            f"<#{channel_id}> has no themes on its roadmap from {current} on. The product "
            f'manager adds one with {ROADMAP_USAGE_HINT}, e.g. `/roadmap add "Self-serve '
            f'onboarding" {current}`.'
        )
        return Message(text, render_blocks([section(text)]))
    intro = (
        f"*Roadmap of <#{channel_id}>*: {plural(total, 'theme')} from {current} on (and "
        "earlier ones while they have open milestones)."
    )
    blocks: list[Block] = [section(intro)]
    quarter: Quarter | None = None
    shown = 0
    for entry in themes:
        theme_quarter = Quarter.of_theme(entry.theme)
        heading = theme_quarter != quarter
        if len(blocks) + 1 + heading > MESSAGE_BLOCKS - 1:  # room for the count of the rest
            break
        if heading:
            now = " (this quarter)" if theme_quarter == current else ""
            blocks.append(section(f":spiral_calendar_pad: *{theme_quarter}*{now}"))
            quarter = theme_quarter
        blocks.append(section(_theme(entry, theme_quarter)))
        shown += 1
    if total > shown:
        blocks.append(context(f"…and {plural(total - shown, 'more theme')}."))
    return Message(intro, render_blocks(blocks))


def _theme(entry: ThemeOnRoadmap, quarter: Quarter) -> str:
    name = quoted_name(entry.theme.name)
    if not entry.milestones:
        return (
            f'*{name}* — no milestones deliver it yet: `/roadmap link "{name}" &lt;milestone&gt;`'
        )
    lines = [
        f"• *{quoted_name(milestone.name)}* — {day_label(milestone.due_date)} · "
        f"{state_label(milestone, state, quarter)}"
        for milestone, state in entry.milestones
    ]
    heading = f"*{name}* — {entry.done}/{len(entry.milestones)} done"
    return "\n".join([heading, *capped(lines, THEME_MILESTONES)])


def state_label(milestone: Milestone, state: MilestoneState, quarter: Quarter | None) -> str:
    """The state, and why a slipped one slipped: after its theme's quarter, or overdue."""
    if state is not MilestoneState.SLIPPED:
        return STATE_LABEL[state]
    if quarter is not None and milestone.due_date > quarter.last_day:
        return f"{STATE_LABEL[state]} (due after {quarter} ends)"
    return f"{STATE_LABEL[state]} (overdue)"
