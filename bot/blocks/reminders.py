"""Nudges and escalations: one line each, packed into one message per channel or person.

Anything that can grow (a channel with hundreds of overdue things) is packed into sections of at
most 3,000 characters and at most 50 blocks, with a count of what was left out.
"""

from collections.abc import Sequence
from datetime import date

from slack_sdk.models.blocks import Block

from bot.blocks.common import (
    MESSAGE_BLOCKS,
    SECTION_LIMIT,
    Message,
    context,
    day_label,
    mentions,
    plural,
    quoted_name,
    render_blocks,
    section,
)
from bot.blocks.lists import at_risk
from bot.mrkdwn import safe_mrkdwn
from bot.schedule import Nudge, Stage
from storage.models import Deadline, Item
from storage.planning import TrackedMilestone

_ICON = {
    Stage.DUE_TOMORROW: ":calendar:",
    Stage.DUE_TODAY: ":alarm_clock:",
    Stage.OVERDUE: ":rotating_light:",
}


def _when(nudge: Nudge, due: date) -> str:
    if nudge.stage is Stage.DUE_TOMORROW:
        return f"is due tomorrow ({day_label(due)})"
    if nudge.stage is Stage.DUE_TODAY:
        return "is due today"
    return f"is {plural(nudge.days_overdue, 'day')} overdue (was due {day_label(due)})"


def milestone_nudge(tracked: TrackedMilestone, nudge: Nudge, managers: Sequence[str]) -> str:
    """One line for the team channel; an overdue one calls in the project manager(s)."""
    milestone = tracked.milestone
    owner = f" · owner <@{milestone.owner_id}>" if milestone.owner_id else ""
    line = (
        f"{_ICON[nudge.stage]} Milestone *{quoted_name(milestone.name)}* "
        f"{_when(nudge, milestone.due_date)}{owner}{at_risk(tracked)}"
    )
    if nudge.stage is Stage.OVERDUE and managers:
        line += f" · {mentions(managers)}, please re-plan or close it (`/milestone done`)."
    return line


def deadline_nudge(deadline: Deadline, nudge: Nudge, for_assignee: bool) -> str:
    task = quoted_name(deadline.task, 300)
    when = _when(nudge, deadline.due_date)
    if for_assignee:
        return (
            f"{_ICON[nudge.stage]} Your deadline *{task}* in <#{deadline.team_channel_id}> "
            f"{when}. `/deadline done {deadline.id}` when it's finished."
        )
    return (
        f"{_ICON[nudge.stage]} <@{deadline.assignee_id}>'s deadline *{task}* in "
        f"<#{deadline.team_channel_id}> {when}."
    )


def escalation(item: Item, hours: int, managers: Sequence[str]) -> str:
    preview = safe_mrkdwn(item.text, 300)[0]
    source = f" · <{item.permalink}|source>" if item.permalink else ""
    who = f"{mentions(managers)}: " if managers else "Nobody is the project manager yet. "
    return (
        f":rotating_light: {who}blocker *#{item.id}* from <@{item.reporter_id}> has waited "
        f"{plural(hours, 'working hour')} without being acknowledged{source}\n>{preview}"
    )


def _packed(lines: Sequence[str], max_sections: int) -> list[Block]:
    """Lines packed into as few sections as fit, then a count of the lines left out."""
    sections: list[str] = []
    current = ""
    for index, line in enumerate(lines):
        line = safe_mrkdwn(line, SECTION_LIMIT)[0] if len(line) > SECTION_LIMIT else line
        if current and len(current) + 1 + len(line) > SECTION_LIMIT:
            if len(sections) + 1 == max_sections:
                rest = len(lines) - index
                return [
                    *(section(text) for text in [*sections, current]),
                    context(f"…and {rest} more."),
                ]
            sections.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    sections.append(current)
    return [section(text) for text in sections if text]


def reminders(destination_label: str, lines: Sequence[str]) -> Message:
    """Everything due for one channel or person in one run: one post, never one per line."""
    blocks = _packed(lines, MESSAGE_BLOCKS - 1)
    fallback = lines[0] if len(lines) == 1 else f"{len(lines):,} reminders {destination_label}"
    return Message(safe_mrkdwn(fallback, 300)[0], render_blocks(blocks))
