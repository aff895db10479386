"""Block Kit for the time loop: nudges, escalations, milestone and deadline lists, the digest.

Pure functions like bot.blocks. Anything that can grow (a channel with hundreds of overdue
things, a digest of ten thousand items) is packed into sections of at most 3,000 characters and
at most 50 blocks, with a count of what was left out, so no post can fail Slack's limits.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.blocks import (
    ROLE_LABEL,
    SECTION_LIMIT,
    STATUS_LABEL,
    Message,
    item_buttons,
    render_blocks,
)
from bot.schedule import WEEKDAYS, Nudge, Stage
from bot.text import safe_mrkdwn
from storage.models import Deadline, Item, ItemStatus, Role, TeamSettings
from storage.store import Counted, ProductDigest, ProjectDigest, QueuedItem, TrackedMilestone

MESSAGE_BLOCKS = 50
_ROW_PREFIXES = {"waiting", "voted", "blocker"}
DIGEST_ITEMS = 5  # items with buttons per digest list: 2 blocks each keeps a reply far below 50
LISTED_LINES = 10  # per digest list
LISTED_REPLY = 40  # per /milestone or /deadline list
NAME_LIMIT = 150


def day_label(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def _name(text: str, limit: int = NAME_LIMIT) -> str:
    return safe_mrkdwn(text, limit)[0]


def _mentions(users: Sequence[str]) -> str:
    return ", ".join(f"<@{user}>" for user in users)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _when(nudge: Nudge, due: date) -> str:
    if nudge.stage is Stage.DUE_TOMORROW:
        return f"is due tomorrow ({day_label(due)})"
    if nudge.stage is Stage.DUE_TODAY:
        return "is due today"
    return f"is {_plural(nudge.days_overdue, 'day')} overdue (was due {day_label(due)})"


def _icon(nudge: Nudge) -> str:
    return {
        Stage.DUE_TOMORROW: ":calendar:",
        Stage.DUE_TODAY: ":alarm_clock:",
        Stage.OVERDUE: ":rotating_light:",
    }[nudge.stage]


def _risk(tracked: TrackedMilestone) -> str:
    if not tracked.at_risk:
        return ""
    return f" · :warning: *at risk*: {_plural(tracked.open_blockers, 'open blocker')}"


def milestone_nudge(tracked: TrackedMilestone, nudge: Nudge, managers: Sequence[str]) -> str:
    """One line for the team channel; an overdue one calls in the project manager(s)."""
    milestone = tracked.milestone
    owner = f" · owner <@{milestone.owner_id}>" if milestone.owner_id else ""
    line = (
        f"{_icon(nudge)} Milestone *{_name(milestone.name)}* {_when(nudge, milestone.due_date)}"
        f"{owner}{_risk(tracked)}"
    )
    if nudge.stage is Stage.OVERDUE and managers:
        line += f" · {_mentions(managers)}, please re-plan or close it (`/milestone done`)."
    return line


def deadline_nudge(deadline: Deadline, nudge: Nudge, for_assignee: bool) -> str:
    task = _name(deadline.task, 300)
    if for_assignee:
        return (
            f"{_icon(nudge)} Your deadline *{task}* in <#{deadline.team_channel_id}> "
            f"{_when(nudge, deadline.due_date)}. `/deadline done {deadline.id}` when it's finished."
        )
    return (
        f"{_icon(nudge)} <@{deadline.assignee_id}>'s deadline *{task}* in "
        f"<#{deadline.team_channel_id}> {_when(nudge, deadline.due_date)}."
    )


def escalation(item: Item, hours: int, managers: Sequence[str]) -> str:
    preview = safe_mrkdwn(item.text, 300)[0]
    source = f" · <{item.permalink}|source>" if item.permalink else ""
    who = f"{_mentions(managers)}: " if managers else "Nobody is the project manager yet. "
    return (
        f":rotating_light: {who}blocker *#{item.id}* from <@{item.reporter_id}> has waited "
        f"{_plural(hours, 'working hour')} without being acknowledged{source}\n>{preview}"
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
                    *(SectionBlock(text=MarkdownTextObject(text=s)) for s in [*sections, current]),
                    ContextBlock(elements=[MarkdownTextObject(text=f"…and {rest} more.")]),
                ]
            sections.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    sections.append(current)
    return [SectionBlock(text=MarkdownTextObject(text=s)) for s in sections if s]


def reminders(destination_label: str, lines: Sequence[str]) -> Message:
    """Everything due for one channel or person in one run: one post, never one per line."""
    blocks = _packed(lines, MESSAGE_BLOCKS - 1)
    fallback = lines[0] if len(lines) == 1 else f"{len(lines)} reminders {destination_label}"
    return Message(safe_mrkdwn(fallback, 300)[0], render_blocks(blocks))


# Lists ------------------------------------------------------------------------------------


def _capped(lines: Sequence[str], limit: int) -> list[str]:
    """The first `limit` lines, and how many more there are."""
    hidden = len(lines) - limit
    return [*lines[:limit], f"…and {hidden} more."] if hidden > 0 else list(lines)


def milestone_list(channel_id: str, tracked: Sequence[TrackedMilestone], today: date) -> str:
    if not tracked:
        return (
            f"<#{channel_id}> has no open milestones. "
            "Add one with `/milestone add &lt;name&gt; &lt;YYYY-MM-DD&gt; [@owner]`."
        )
    lines = [
        f"• *{_name(entry.milestone.name)}* — {day_label(entry.milestone.due_date)}"
        + (f" · <@{entry.milestone.owner_id}>" if entry.milestone.owner_id else "")
        + (" · *overdue*" if entry.milestone.due_date < today else "")
        + _risk(entry)
        for entry in tracked
    ]
    return "\n".join([f"Open milestones in <#{channel_id}>:", *_capped(lines, LISTED_REPLY)])


def deadline_list(channel_id: str, deadlines: Sequence[Deadline], today: date) -> str:
    if not deadlines:
        return f"<#{channel_id}> has no open deadlines."
    lines = [
        f"• `{d.id}` *{_name(d.task, 200)}* — {day_label(d.due_date)} · <@{d.assignee_id}>"
        + (" · *overdue*" if d.due_date < today else "")
        for d in deadlines
    ]
    return "\n".join([f"Open deadlines in <#{channel_id}>:", *_capped(lines, LISTED_REPLY)])


def schedule_summary(settings: TeamSettings) -> str:
    return (
        f"The weekly digest for <#{settings.channel_id}> runs every "
        f"{WEEKDAYS[settings.digest_weekday].title()} at "
        f"{settings.digest_hour:02d}:{settings.digest_minute:02d} ({settings.timezone})."
    )


# Digest -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Digest:
    """The parent message and one reply per role."""

    parent: Message
    replies: dict[Role, Message]


def _section(text: str, block_id: str | None = None) -> SectionBlock:
    return SectionBlock(block_id=block_id, text=MarkdownTextObject(text=text))


def _age(since: datetime, now: datetime) -> str:
    days = (now - since).days
    return "today" if days < 1 else f"{_plural(days, 'day')} old"


def _item_line(entry: QueuedItem, now: datetime, *, owner: bool = False) -> str:
    item = entry.item
    text = safe_mrkdwn(item.text, 400)[0]
    facts = [f"<@{item.reporter_id}>", _age(item.created_at, now)]
    if entry.votes:
        facts.append(f"+{entry.votes}")
    if owner:
        if item.status == ItemStatus.ACKNOWLEDGED:
            facts.append(f"owned by <@{item.handled_by}>")
        else:
            facts.append("not acknowledged")
    if item.permalink:
        facts.append(f"<{item.permalink}|source>")
    return f"*#{item.id}* {text}\n_{' · '.join(facts)}_"


def _actionable(
    heading: str, entries: Counted | Sequence[QueuedItem], prefix: str, now: datetime, **kw: bool
) -> list[Block]:
    """A heading, then each item with the same buttons its card has, so triage works here."""
    shown = entries.shown if isinstance(entries, Counted) else list(entries)
    blocks: list[Block] = [_section(heading)]
    if not shown:
        blocks[0] = _section(f"{heading}\n_Nothing here this week._")
        return blocks
    for entry in shown:
        item_id = entry.item.id
        blocks.append(_section(_item_line(entry, now, **kw), f"{prefix}_{item_id}"))
        buttons = item_buttons(entry.item)
        if buttons:
            blocks.append(ActionsBlock(block_id=f"{prefix}_actions_{item_id}", elements=buttons))
    return blocks


def _more(count: Counted, command: str, channel_id: str) -> list[Block]:
    hidden = count.total - len(count.shown)
    if hidden <= 0:
        return []
    text = f"…and {hidden} more: `{command}` in <#{channel_id}> lists them."
    return [ContextBlock(elements=[MarkdownTextObject(text=text)])]


def _for(role: Role, holders: Sequence[str]) -> str:
    label = ROLE_LABEL[role]
    if not holders:
        return f"nobody is the {label} yet (`/role @person {role.value}`)"
    return f"for {_mentions(holders)} ({label})"


def digest_parent(channel_id: str, week_of: date) -> Message:
    title = f"Weekly digest — week of {day_label(week_of)}"
    blocks: list[Block] = [
        HeaderBlock(text=title),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"For <#{channel_id}>: the product and project replies are in this "
                    "thread, with buttons to triage from here."
                )
            ]
        ),
    ]
    return Message(f"{title} (<#{channel_id}>)", render_blocks(blocks))


def product_reply(
    channel_id: str, holders: Sequence[str], digest: ProductDigest, now: datetime
) -> Message:
    filed = sum(digest.filed_by_status.values())
    statuses = ", ".join(
        f"{count} {STATUS_LABEL[ItemStatus(status)].lower()}"
        for status, count in sorted(digest.filed_by_status.items())
    )
    summary = f"*Feedback filed this week: {filed}*" + (f" ({statuses})" if statuses else "")
    if digest.filed:
        summary += "\n" + "\n".join(
            f"• {_name(e.item.text, 200)}"
            + (f" (+{e.votes})" if e.votes else "")
            + (f" · <{e.item.permalink}|source>" if e.item.permalink else f" · #{e.item.id}")
            for e in digest.filed
        )
    else:
        summary += "\n_No new feedback this week._"
    blocks: list[Block] = [
        _section(f":bulb: *Product* — {_for(Role.PRODUCT, holders)}"),
        _section(summary),
        *_actionable(
            f"*Waiting for triage longest* ({digest.waiting.total} open)",
            digest.waiting,
            "waiting",
            now,
        ),
        *_more(digest.waiting, "/feedback list", channel_id),
        *_actionable("*Most +1'd*", digest.most_voted, "voted", now),
    ]
    return Message(f"Product digest for <#{channel_id}>: {filed} filed", render_blocks(blocks))


def _milestone_line(entry: TrackedMilestone) -> str:
    milestone = entry.milestone
    owner = f" · <@{milestone.owner_id}>" if milestone.owner_id else ""
    return f"• *{_name(milestone.name)}* — {day_label(milestone.due_date)}{owner}{_risk(entry)}"


def _lines(heading: str, lines: Sequence[str], empty: str) -> Block:
    """A heading and up to LISTED_LINES lines in one section (always within 3,000 chars)."""
    body = "\n".join(_capped(lines, LISTED_LINES)) if lines else f"_{empty}_"
    return _section(safe_mrkdwn(f"{heading}\n{body}", SECTION_LIMIT)[0])


def project_reply(
    channel_id: str, holders: Sequence[str], digest: ProjectDigest, now: datetime, today: date
) -> Message:
    resolved = [
        f"• *#{e.item.id}* {_name(e.item.text, 200)} · by <@{e.item.handled_by}>"
        for e in digest.resolved.shown
    ]
    overdue = [
        _milestone_line(entry) + f" · *{(today - entry.milestone.due_date).days}d overdue*"
        for entry in digest.overdue_milestones
    ] + [
        f"• deadline *{_name(d.task, 200)}* — {day_label(d.due_date)} · <@{d.assignee_id}>"
        for d in digest.overdue_deadlines
    ]
    blocks: list[Block] = [
        _section(f":no_entry: *Project* — {_for(Role.PROJECT, holders)}"),
        *_actionable(
            f"*Open blockers, oldest first* ({digest.open_blockers.total})",
            digest.open_blockers,
            "blocker",
            now,
            owner=True,
        ),
        *_more(digest.open_blockers, "/blocker list", channel_id),
        _lines(
            f"*Blockers resolved this week* ({digest.resolved.total})",
            resolved,
            "None resolved this week.",
        ),
        _lines(
            "*Milestones due in the next 14 days*",
            [_milestone_line(m) for m in digest.milestones_soon],
            "Nothing due in the next 14 days.",
        ),
        _lines("*Overdue milestones and deadlines*", overdue, "Nothing overdue."),
    ]
    fallback = f"Project digest for <#{channel_id}>: {digest.open_blockers.total} open blockers"
    return Message(fallback, render_blocks(blocks))


def settled_in_place(
    blocks: list[dict[str, Any]], entry: QueuedItem, now: datetime
) -> list[dict[str, Any]]:
    """A digest message after one of its items was triaged: that item's rows show its new
    state and the buttons that still apply; the rest of the message is unchanged."""
    item = entry.item
    rows = {
        str(b.get("block_id"))
        for b in blocks
        if b.get("type") == "actions"
        and {e.get("value") for e in b.get("elements", [])} == {str(item.id)}
    }
    updated: list[dict[str, Any]] = []
    for block in blocks:
        block_id = str(block.get("block_id", ""))
        if block_id.removesuffix("_status") in rows and block_id.endswith("_status"):
            continue  # the status an earlier click wrote; written afresh below
        prefix, _, row = block_id.rpartition("_")
        if block.get("type") == "section" and row == str(item.id) and prefix in _ROW_PREFIXES:
            line = _item_line(entry, now, owner=prefix == "blocker")
            updated.append(_section(line, block_id).to_dict())
            continue
        if block_id not in rows or block.get("type") != "actions":
            updated.append(block)
            continue
        if item.status != ItemStatus.OPEN:
            status = STATUS_LABEL[ItemStatus(item.status)]
            updated.append(
                ContextBlock(
                    block_id=f"{block_id}_status",
                    elements=[MarkdownTextObject(text=f"*{status}* by <@{item.handled_by}>")],
                ).to_dict()
            )
        buttons = item_buttons(item)
        if buttons:
            updated.append(ActionsBlock(block_id=block_id, elements=buttons).to_dict())
    return updated
