"""Nudges and escalations: one line each, packed into one message per channel or person.

Anything that can grow (a channel with hundreds of overdue things) is packed into sections of at
most 3,000 characters and at most 50 blocks, with a count of what was left out.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

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
from bot.nudges import Nudge, Stage
from bot.schedule import ONE_DAY
from bot.working_time import WorkingTime, days_label
from storage.models import Deadline, Item
from storage.planning import TrackedMilestone

_ICON = {
    Stage.DUE_SOON: ":calendar:",
    Stage.DUE_TODAY: ":alarm_clock:",
    Stage.OVERDUE: ":rotating_light:",
}
SNOOZE_ACTIONS = ("reminder_snooze_day", "reminder_snooze_week", "reminder_mute")
SNOOZABLE_SHOWN = 15  # overdue lines with their own buttons (3 blocks each, below 50)


@dataclass(frozen=True)
class Subject:
    """What an overdue reminder is about, so its buttons can snooze or mute it."""

    kind: Literal["milestone", "deadline"]
    row_id: int

    @property
    def value(self) -> str:
        return f"{self.kind}:{self.row_id}"

    @property
    def line_id(self) -> str:
        return f"reminder_{self.kind}_{self.row_id}"

    @property
    def actions_id(self) -> str:
        return f"snooze_{self.kind}_{self.row_id}"


def _when(nudge: Nudge) -> str:
    """Where it stands on the day the reminder is read: true when read, however late."""
    if nudge.stage is Stage.DUE_SOON:
        if nudge.due == nudge.today + ONE_DAY:
            return f"is due tomorrow ({day_label(nudge.due)})"
        return f"is due {day_label(nudge.due)}"
    if nudge.stage is Stage.DUE_TODAY:
        return "is due today"
    return f"is {plural(nudge.days_overdue, 'day')} overdue (was due {day_label(nudge.due)})"


def milestone_nudge(tracked: TrackedMilestone, nudge: Nudge) -> str:
    """One line about a milestone: in the team channel (due soon or today), or in a DM to its
    owner and project managers (overdue); nobody is mentioned, so nobody is pinged twice."""
    milestone = tracked.milestone
    name = f"*{quoted_name(milestone.name)}*"
    if nudge.stage is not Stage.OVERDUE:
        return f"{_ICON[nudge.stage]} Milestone {name} {_when(nudge)}{at_risk(tracked)}"
    return (
        f"{_ICON[nudge.stage]} Milestone {name} in <#{milestone.team_channel_id}> "
        f"{_when(nudge)}{at_risk(tracked)}. Re-plan it (`/milestone move`) or close it "
        "(`/milestone done`)."
    )


def deadline_nudge(deadline: Deadline, nudge: Nudge, for_assignee: bool) -> str:
    task = quoted_name(deadline.task, 300)
    when = _when(nudge)
    if for_assignee:
        return (
            f"{_ICON[nudge.stage]} Your deadline *{task}* in <#{deadline.team_channel_id}> "
            f"{when}. `/deadline done {deadline.id}` when it's finished."
        )
    return (
        f"{_ICON[nudge.stage]} <@{deadline.assignee_id}>'s deadline *{task}* in "
        f"<#{deadline.team_channel_id}> {when}."
    )


def escalation(item: Item, hours: int, mentioned: Sequence[str]) -> str:
    """A blocker nobody acknowledged in time. In a channel post it mentions whom it is for;
    in a DM it is for the reader."""
    preview = safe_mrkdwn(item.text, 300)[0]
    source = f" · <{item.permalink}|source>" if item.permalink else ""
    who = f"{mentions(mentioned)}: " if mentioned else ""
    return (
        f":rotating_light: {who}blocker *#{item.id}* from <@{item.reporter_id}> is not "
        f"acknowledged after {plural(hours, 'working hour')}{source}\n>{preview}"
    )


def schedule_promise(days: Sequence[date], work: WorkingTime, whom: str, when: str) -> str:
    """What a confirmation promises, from the schedule itself: the days ahead on which `whom`
    is reminded (at `when`), on working days only."""
    hours = f"{days_label(work.days)}, {work.start:%H:%M} to {work.end:%H:%M}"
    if not days:
        return f"It is due too soon for a reminder before then (working days: {hours})."
    ahead = " and ".join(day_label(day) for day in days)
    return f"I'll remind {whom} on {ahead} at {work.start:%H:%M} {when} (working days: {hours})."


def slip_promise(owner: str, managers_too: bool) -> str:
    """Who hears of it when it slips, and how often (`bot.reminders` is the schedule)."""
    managers = "; the project managers once, then weekly" if managers_too else ""
    return f"If it slips, {owner} daily for a week, then weekly{managers}."


def snooze_buttons(subject: Subject) -> ActionsBlock:
    return ActionsBlock(
        block_id=subject.actions_id,
        elements=[
            ButtonElement(text=label, action_id=action, value=subject.value)
            for label, action in zip(
                ("Snooze 1 day", "Snooze until Monday", "Mute"), SNOOZE_ACTIONS, strict=True
            )
        ],
    )


def snoozed_in_place(
    blocks: list[dict[str, Any]], subject: Subject, text: str
) -> list[dict[str, Any]]:
    """A reminder after one of its subjects was snoozed or muted: that subject's buttons (or
    the line that replaced them) become the context line `text`; the rest is unchanged."""
    line = context(text, subject.actions_id).to_dict()
    return [line if block.get("block_id") == subject.actions_id else block for block in blocks]


def _fitted(line: str) -> str:
    return safe_mrkdwn(line, SECTION_LIMIT)[0] if len(line) > SECTION_LIMIT else line


def _packed(lines: Sequence[str], max_sections: int) -> list[Block]:
    """Lines packed into as few sections as fit, then a count of the lines left out."""
    sections: list[str] = []
    current = ""
    for index, line in enumerate(lines):
        line = _fitted(line)
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


def reminders(destination_label: str, entries: Sequence[tuple[str, Subject | None]]) -> Message:
    """Everything due for one channel or person in one run: one post, never one per line.
    The first overdue lines come with Snooze and Mute buttons of their own; the rest are
    packed into sections."""
    with_buttons = [i for i, (_, subject) in enumerate(entries) if subject][:SNOOZABLE_SHOWN]
    rest = [line for i, (line, _) in enumerate(entries) if i not in with_buttons]
    blocks: list[Block] = []
    for index in with_buttons:
        line, subject = entries[index]
        assert subject is not None
        blocks.append(section(_fitted(line), subject.line_id))
        blocks.append(snooze_buttons(subject))
    if rest:
        blocks += _packed(rest, MESSAGE_BLOCKS - 1 - len(blocks))
    lines = [line for line, _ in entries]
    fallback = lines[0] if len(lines) == 1 else f"{len(lines):,} reminders {destination_label}"
    return Message(safe_mrkdwn(fallback, 300)[0], render_blocks(blocks))
