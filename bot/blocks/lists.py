"""Replies that list or summarise: queues, roles, settings, milestones, deadlines."""

from collections.abc import Sequence
from datetime import date

from slack_sdk.models.blocks import Block, DividerBlock, HeaderBlock

from bot.blocks.common import (
    ROLE_LABEL,
    Message,
    capped,
    context,
    day_label,
    plural,
    quoted_name,
    render_blocks,
    section,
)
from bot.mrkdwn import safe_mrkdwn
from bot.schedule import WEEKDAYS
from storage.items import QueuedItem
from storage.models import Deadline, ItemKind, ItemStatus, Role, RoleAssignment, TeamSettings
from storage.planning import TrackedMilestone

MAX_LISTED_ITEMS = 20
LISTED_REPLY = 40  # per /milestone or /deadline list


def queue_list(channel_id: str, kind: ItemKind, queued: Sequence[QueuedItem]) -> Message:
    """The open queue, newest work last; long queues are summarised to stay within 50 blocks."""
    title = f"Open {kind.value} items"
    where = f"<#{channel_id}>'s {ROLE_LABEL[kind.owner_role]} queue"
    intro = f"{len(queued)} open in {where}." if queued else f"Nothing open in {where}."
    blocks: list[Block] = [HeaderBlock(text=title), section(intro)]
    for entry in queued[:MAX_LISTED_ITEMS]:
        item = entry.item
        text, _ = safe_mrkdwn(item.text, 500)
        link = f" · <{item.permalink}|source>" if item.permalink else ""
        votes = f" · +{entry.votes}" if entry.votes else ""
        status = "" if item.status is ItemStatus.OPEN else f" · {item.status.value}"
        blocks.append(DividerBlock())
        blocks.append(
            section(f"*#{item.id}* {text}\n_by <@{item.reporter_id}>{votes}{status}{link}_")
        )
    hidden = len(queued) - MAX_LISTED_ITEMS
    if hidden > 0:
        blocks.append(context(f"…and {hidden} more not shown."))
    return Message(intro, render_blocks(blocks))


def roles_summary(channel_id: str, assignments: Sequence[RoleAssignment]) -> str:
    if not assignments:
        return (
            f"<#{channel_id}> has no roles yet. Start with `/role @person product` "
            "and `/role @person project`."
        )
    lines = [f"Roles in <#{channel_id}>:"]
    for role in Role:
        people = [f"<@{a.user_id}>" for a in assignments if a.role is role]
        lines.append(f"• {ROLE_LABEL[role]}: {', '.join(people) or '_nobody yet_'}")
    return "\n".join(lines)


def settings_summary(settings: TeamSettings) -> str:
    def queue(channel: str | None) -> str:
        return f"<#{channel}>" if channel else "DMs to the role holders"

    return "\n".join(
        [
            f"Settings for <#{settings.channel_id}>:",
            f"• feedback reaction: :{settings.feedback_emoji}:",
            f"• blocker reaction: :{settings.blocker_emoji}:",
            f"• product cards go to: {queue(settings.product_queue_channel)}",
            f"• project cards go to: {queue(settings.project_queue_channel)}",
            f"• time zone: {settings.timezone}",
            f"• weekly digest: {WEEKDAYS[settings.digest_weekday].title()} "
            f"{settings.digest_hour:02d}:{settings.digest_minute:02d}",
            f"• unacknowledged blockers escalate after {settings.escalation_hours} working hours",
        ]
    )


def schedule_summary(settings: TeamSettings) -> str:
    return (
        f"The weekly digest for <#{settings.channel_id}> runs every "
        f"{WEEKDAYS[settings.digest_weekday].title()} at "
        f"{settings.digest_hour:02d}:{settings.digest_minute:02d} ({settings.timezone})."
    )


def at_risk(tracked: TrackedMilestone) -> str:
    if not tracked.at_risk:
        return ""
    return f" · :warning: *at risk*: {plural(tracked.open_blockers, 'open blocker')}"


def milestone_line(entry: TrackedMilestone) -> str:
    milestone = entry.milestone
    owner = f" · <@{milestone.owner_id}>" if milestone.owner_id else ""
    return (
        f"• *{quoted_name(milestone.name)}* — {day_label(milestone.due_date)}{owner}"
        f"{at_risk(entry)}"
    )


def milestone_list(channel_id: str, tracked: Sequence[TrackedMilestone], today: date) -> str:
    if not tracked:
        return (
            f"<#{channel_id}> has no open milestones. "
            "Add one with `/milestone add &lt;name&gt; &lt;YYYY-MM-DD&gt; [@owner]`."
        )
    lines = [
        f"• *{quoted_name(entry.milestone.name)}* — {day_label(entry.milestone.due_date)}"
        + (f" · <@{entry.milestone.owner_id}>" if entry.milestone.owner_id else "")
        + (" · *overdue*" if entry.milestone.due_date < today else "")
        + at_risk(entry)
        for entry in tracked
    ]
    return "\n".join([f"Open milestones in <#{channel_id}>:", *capped(lines, LISTED_REPLY)])


def deadline_list(channel_id: str, deadlines: Sequence[Deadline], today: date) -> str:
    if not deadlines:
        return f"<#{channel_id}> has no open deadlines."
    lines = [
        f"• `{d.id}` *{quoted_name(d.task, 200)}* — {day_label(d.due_date)} · <@{d.assignee_id}>"
        + (" · *overdue*" if d.due_date < today else "")
        for d in deadlines
    ]
    return "\n".join([f"Open deadlines in <#{channel_id}>:", *capped(lines, LISTED_REPLY)])
