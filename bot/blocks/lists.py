"""Replies that list or summarise: queues, roles, settings, milestones, deadlines."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    HeaderBlock,
)

from bot.blocks.cards import kind_noun
from bot.blocks.common import (
    ROLE_LABEL,
    Message,
    Person,
    capped,
    context,
    day_label,
    plural,
    quoted_name,
    render_blocks,
    section,
)
from bot.mrkdwn import safe_mrkdwn
from bot.risks import is_high
from bot.schedule import WEEKDAYS
from bot.working_time import days_label, minutes_to_time, parse_days
from storage.items import QueuedItem
from storage.models import (
    Deadline,
    EscalationDelivery,
    ItemKind,
    QuietWeek,
    Role,
    RoleAssignment,
    TeamSettings,
)
from storage.planning import TrackedMilestone

LISTED_REPLY = 40  # per /milestone or /deadline list
LIST_PAGE = 15  # items per page of `/feedback list`: 2 blocks each, 33 blocks in all
MORE_ACTION = "list_more"  # the "More" button of a list page
LINE_TEXT = 200  # characters of an item's title or text on its list line


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


def settings_summary(settings: TeamSettings, upcoming_holidays: int) -> str:
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
            f"• working week: {working_week(settings)}",
            f"• public holidays: {settings.holiday_region or 'none'}; team holidays ahead: "
            f"{upcoming_holidays}",
            f"• weekly digest: {WEEKDAYS[settings.digest_weekday].title()} "
            f"{settings.digest_hour:02d}:{settings.digest_minute:02d}",
            f"• a quiet week (nothing new, nothing open): {QUIET_WEEK_LABEL[settings.quiet_week]}",
            f"• unacknowledged blockers escalate after {settings.escalation_hours} working hours, "
            f"{ESCALATE_BY_LABEL[settings.escalate_by]}",
        ]
    )


ESCALATE_BY_LABEL = {
    EscalationDelivery.DM: "by DM to each project manager",
    EscalationDelivery.CHANNEL: "in one channel post that mentions the project managers",
}
QUIET_WEEK_LABEL = {QuietWeek.SKIP: "no digest", QuietWeek.LINE: "a one-line post"}


def working_week(settings: TeamSettings) -> str:
    """ "mon-fri, 09:00-17:00 (Europe/Berlin)": the days and hours in the team's zone."""
    start, end = minutes_to_time(settings.work_start), minutes_to_time(settings.work_end)
    return (
        f"{days_label(parse_days(settings.work_days))}, {start:%H:%M}-{end:%H:%M} "
        f"({settings.timezone})"
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
    return f" · :warning: *at risk*: {risk_reason(tracked)}"


def risk_reason(tracked: TrackedMilestone) -> str:
    """What puts a milestone at risk: "2 open blockers, 1 high risk"."""
    counts = [(tracked.open_blockers, "open blocker"), (tracked.high_risks, "high risk")]
    return ", ".join(plural(count, what) for count, what in counts if count)


def milestone_line(entry: TrackedMilestone, person: Person) -> str:
    """`person` writes its owner: the digest names people rather than mention them."""
    milestone = entry.milestone
    owner = f" · {person(milestone.owner_id)}" if milestone.owner_id else ""
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


@dataclass(frozen=True)
class ListPage:
    """What one page of `/feedback list …` shows: which items (for its heading), where this
    page starts among them, how many match (`at_least`: at least that many, the count
    stopped there), and the "More" button's value (None: last page)."""

    channel_id: str
    kind: ItemKind
    filter: str  # a filter name of `bot.parsing.team.LIST_FILTERS`
    tag: str | None
    words: str | None
    newest_first: bool
    total: int
    at_least: bool = False
    start: int = 0  # how many came before this page
    more: str | None = None


def queue_page(page: ListPage, entries: Sequence[QueuedItem], now: datetime) -> Message:
    """One page of a team's items, a line each (its own section and context: 2 blocks), with
    a "More" button while there are more: at most 3 + 2 * `LIST_PAGE` blocks."""
    what = _noun(page.kind, page.total)
    label = "" if page.filter == "all" else f"{page.filter.replace('-', ' ')} "
    where = f"in <#{page.channel_id}>'s {ROLE_LABEL[page.kind.owner_role]} queue"
    matching = "".join(
        [
            f" tagged #{page.tag}" if page.tag else "",
            f" matching “{safe_mrkdwn(page.words, 100)[0]}”" if page.words else "",
        ]
    )
    order = "newest first" if page.newest_first else "waiting longest first"
    if entries:
        last = page.start + len(entries)
        shown = f"{page.start + 1} to {last}" if len(entries) > 1 else f"{last}"
        total = f"{page.total:,}{'+' if page.at_least else ''}"
        intro = f"{total} {label}{what} {where}{matching}, {order}. Showing {shown}."
    elif page.start:
        intro = (
            f"No more {label}{_noun(page.kind, 2)} {where}{matching}: the rest were triaged "
            "or changed since this list was shown."
        )
    else:
        intro = f"No {label}{_noun(page.kind, 2)} {where}{matching}."
    heading = "All" if page.filter == "all" else page.filter.replace("-", " ").capitalize()
    title = f"{heading} {_noun(page.kind, 2).removesuffix(' items')}"
    blocks: list[Block] = [HeaderBlock(text=title), section(intro)]
    for entry in entries[:LIST_PAGE]:
        blocks.extend(_item_line(entry, now))
    if page.more is not None and entries:
        button = ButtonElement(text="More", action_id=MORE_ACTION, value=page.more)
        blocks.append(ActionsBlock(block_id=MORE_ACTION, elements=[button]))
    return Message(intro, render_blocks(blocks))


def _noun(kind: ItemKind, count: int) -> str:
    word = "feedback item" if kind is ItemKind.FEEDBACK else kind_noun(kind)
    return word if count == 1 else f"{word}s"


def _item_line(entry: QueuedItem, now: datetime) -> list[Block]:
    item = entry.item
    text = safe_mrkdwn(" ".join((item.title or item.text).split()), LINE_TEXT)[0]
    facts = [f"<@{item.reporter_id}>"]
    if entry.votes:
        facts.append(f"+{entry.votes}")
    facts.extend([item.status.value.replace("_", " "), age(item.created_at, now)])
    if item.kind.is_risk and is_high(item):
        facts.append(":rotating_light: high risk")
    if item.permalink:
        facts.append(f"<{item.permalink}|source>")
    tags = " ".join(f"#{tag}" for tag in item.tags.split())
    if tags:
        facts.append(tags)
    return [section(f"*#{item.id}* {text}"), context(" · ".join(facts))]


def age(since: datetime, now: datetime) -> str:
    """How long ago, in days, then weeks: "today", "3 days ago", "5 weeks ago"."""
    days = (now - since).days
    if days < 1:
        return "today"
    if days < 14:
        return f"{plural(days, 'day')} ago"
    return f"{plural(days // 7, 'week')} ago"
