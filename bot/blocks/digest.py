"""The weekly digest: a parent message and one reply per role, with triage buttons per item.

Each item row has block ids made by `Row` from its list and item id, so a row is found again by
comparing ids, never by parsing them.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, HeaderBlock

from bot.blocks.cards import handled, item_buttons
from bot.blocks.common import (
    ROLE_LABEL,
    SECTION_LIMIT,
    STATUS_LABEL,
    Message,
    capped,
    context,
    day_label,
    mentions,
    plural,
    quoted_name,
    render_blocks,
    section,
)
from bot.blocks.lists import milestone_line
from bot.mrkdwn import safe_mrkdwn
from storage.digest import Counted, ProductDigest, ProjectDigest
from storage.items import QueuedItem
from storage.models import Item, ItemStatus, Level, Role
from storage.queues import OpenRisk, Risks

DIGEST_ITEMS = 5  # items with buttons per digest list: 2 blocks each keeps a reply far below 50
LISTED_LINES = 10  # per digest list without buttons
RISK_PREVIEW = 120  # characters of a risk's title or text in a line


@dataclass(frozen=True)
class Digest:
    """The parent message and one reply per role."""

    parent: Message
    replies: dict[Role, Message]


@dataclass(frozen=True)
class Row:
    """The blocks of one item in one digest list: its line, its buttons, its status."""

    listing: str  # "waiting", "voted" or "blocker"
    item_id: int | None

    @property
    def line_id(self) -> str:
        return f"{self.listing}_{self.item_id}"

    @property
    def actions_id(self) -> str:
        return f"{self.listing}_actions_{self.item_id}"

    @property
    def status_id(self) -> str:
        return f"{self.actions_id}_status"

    @property
    def shows_owner(self) -> bool:
        return self.listing == "blocker"


LISTINGS = ("waiting", "voted", "blocker")


def _age(since: datetime, now: datetime) -> str:
    days = (now - since).days
    return "today" if days < 1 else f"{plural(days, 'day')} old"


def _item_line(entry: QueuedItem, now: datetime, row: Row) -> str:
    item = entry.item
    text = safe_mrkdwn(item.title or item.text, 400)[0]
    facts = [f"<@{item.reporter_id}>", _age(item.created_at, now)]
    if entry.votes:
        facts.append(f"+{entry.votes}")
    if row.shows_owner:
        if item.status is ItemStatus.ACKNOWLEDGED:
            facts.append(f"owned by <@{item.handled_by}>")
        else:
            facts.append("not acknowledged")
    if item.permalink:
        facts.append(f"<{item.permalink}|source>")
    return f"*#{item.id}* {text}\n_{' · '.join(facts)}_"


def _actionable(
    heading: str, entries: Counted | Sequence[QueuedItem], listing: str, now: datetime
) -> list[Block]:
    """A heading, then each item with the same buttons its card has, so triage works here."""
    shown = entries.shown if isinstance(entries, Counted) else list(entries)
    if not shown:
        return [section(f"{heading}\n_Nothing here this week._")]
    blocks: list[Block] = [section(heading)]
    for entry in shown:
        row = Row(listing, entry.item.id)
        blocks.append(section(_item_line(entry, now, row), row.line_id))
        buttons = item_buttons(entry.item)
        if buttons:
            blocks.append(ActionsBlock(block_id=row.actions_id, elements=buttons))
    return blocks


def _more(count: Counted, command: str, channel_id: str) -> list[Block]:
    hidden = count.total - len(count.shown)
    if hidden <= 0:
        return []
    return [context(f"…and {hidden} more: `{command}` in <#{channel_id}> lists them.")]


def _for(role: Role, holders: Sequence[str]) -> str:
    label = ROLE_LABEL[role]
    if not holders:
        return f"nobody is the {label} yet (`/role @person {role.value}`)"
    return f"for {mentions(holders)} ({label})"


def _lines(heading: str, lines: Sequence[str], empty: str) -> Block:
    """A heading and up to LISTED_LINES lines in one section (always within 3,000 chars)."""
    body = "\n".join(capped(lines, LISTED_LINES)) if lines else f"_{empty}_"
    return section(safe_mrkdwn(f"{heading}\n{body}", SECTION_LIMIT)[0])


def risk_facts(risk: OpenRisk) -> list[str]:
    """What a risk line says besides its text: high or not, likelihood and impact, its owner,
    where it stands, the milestone it threatens."""
    item = risk.item
    facts = [":rotating_light: *high*"] if risk.high else []
    facts.append(f"likelihood {_level(item.likelihood)} · impact {_level(item.impact)}")
    facts.append(f"owner <@{item.assignee_id}>" if item.assignee_id else "no owner")
    if item.status is ItemStatus.MITIGATING:
        facts.append("mitigating")
    if risk.milestone is not None:
        facts.append(f"threatens *{quoted_name(risk.milestone, 80)}*")
    return facts


def risk_preview(item: Item) -> str:
    return safe_mrkdwn(" ".join((item.title or item.text).split()), RISK_PREVIEW)[0]


def _level(level: Level | None) -> str:
    return level.value if level else "not set"


def _risks(title: str, risks: Risks, empty: str) -> Block:
    """Open risks, high first: one line each, and how many more there are."""
    high = f", {risks.high} high" if risks.high else ""
    lines = [
        f"• *#{r.item.id}* {risk_preview(r.item)} — {' · '.join(risk_facts(r))}"
        for r in risks.shown
    ]
    hidden = risks.total - len(risks.shown)
    if hidden > 0:
        lines.append(f"…and {hidden} more.")
    return _lines(f"*{title}* ({risks.total}{high})", lines, empty)


def _roadmap(digest: ProductDigest) -> list[Block]:
    """The quarter's roadmap themes and how far along their milestones are."""
    if digest.quarter is None:
        return []
    lines = [
        f"• *{quoted_name(p.theme.name)}* — "
        + (f"{p.done} of {plural(p.total, 'milestone')} done" if p.total else "no milestones yet")
        for p in digest.themes
    ]
    return [_lines(f"*Roadmap, {digest.quarter}*", lines, f"No themes for {digest.quarter}.")]


def digest_parent(channel_id: str, week_of: date) -> Message:
    title = f"Weekly digest — week of {day_label(week_of)}"
    blocks: list[Block] = [
        HeaderBlock(text=title),
        context(
            f"For <#{channel_id}>: the product and project replies are in this "
            "thread, with buttons to triage from here."
        ),
    ]
    return Message(f"{title} (<#{channel_id}>)", render_blocks(blocks))


def product_reply(
    channel_id: str, holders: Sequence[str], digest: ProductDigest, now: datetime
) -> Message:
    filed = sum(digest.filed_by_status.values())
    statuses = ", ".join(
        f"{count} {STATUS_LABEL[status].lower()}"
        for status, count in sorted(digest.filed_by_status.items())
    )
    summary = f"*Feedback filed this week: {filed}*" + (f" ({statuses})" if statuses else "")
    if digest.filed:
        summary += "\n" + "\n".join(
            f"• {quoted_name(e.item.title or e.item.text, 200)}"
            + (f" (+{e.votes})" if e.votes else "")
            + (f" · <{e.item.permalink}|source>" if e.item.permalink else f" · #{e.item.id}")
            for e in digest.filed
        )
    else:
        summary += "\n_No new feedback this week._"
    blocks: list[Block] = [
        section(f":bulb: *Product* — {_for(Role.PRODUCT, holders)}"),
        section(summary),
        *_roadmap(digest),
        _risks("Open market risks, high first", digest.market_risks, "No open market risks."),
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


def project_reply(
    channel_id: str, holders: Sequence[str], digest: ProjectDigest, now: datetime, today: date
) -> Message:
    resolved = [
        f"• *#{e.item.id}* {quoted_name(e.item.title or e.item.text, 200)}"
        f" · by <@{e.item.handled_by}>"
        for e in digest.resolved.shown
    ]
    overdue = [
        milestone_line(entry) + f" · *{(today - entry.milestone.due_date).days}d overdue*"
        for entry in digest.overdue_milestones
    ] + [
        f"• deadline *{quoted_name(d.task, 200)}* — {day_label(d.due_date)} · <@{d.assignee_id}>"
        for d in digest.overdue_deadlines
    ]
    blocks: list[Block] = [
        section(f":no_entry: *Project* — {_for(Role.PROJECT, holders)}"),
        *_actionable(
            f"*Open blockers, oldest first* ({digest.open_blockers.total})",
            digest.open_blockers,
            "blocker",
            now,
        ),
        *_more(digest.open_blockers, "/blocker list", channel_id),
        _risks(
            "Open operational risks, high first",
            digest.operational_risks,
            "No open operational risks.",
        ),
        _lines(
            f"*Blockers resolved this week* ({digest.resolved.total})",
            resolved,
            "None resolved this week.",
        ),
        _lines(
            "*Scope creep: items accepted after a milestone's freeze*",
            [
                f"• *{quoted_name(c.milestone.name)}*: "
                f"{plural(c.accepted, 'item')} accepted after the freeze"
                for c in digest.scope_creep
            ],
            "Nothing accepted after a freeze.",
        ),
        _lines(
            "*Milestones due in the next 14 days*",
            [milestone_line(m) for m in digest.milestones_soon],
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
    item: Item = entry.item
    rows = {
        block_id: row
        for row in (Row(listing, item.id) for listing in LISTINGS)
        for block_id in (row.line_id, row.actions_id, row.status_id)
    }
    present = {block.get("block_id") for block in blocks}
    updated: list[dict[str, Any]] = []
    for block in blocks:
        block_id = block.get("block_id")
        row = rows.get(block_id) if isinstance(block_id, str) else None
        if row is None:
            updated.append(block)
        elif block_id == row.line_id:
            updated.append(section(_item_line(entry, now, row), row.line_id).to_dict())
        elif block_id == row.status_id:
            if row.actions_id not in present:
                updated.append(block)  # no buttons left to rewrite it from: keep it
        else:
            if item.status is not ItemStatus.OPEN:
                updated.append(context(handled(item), row.status_id).to_dict())
            buttons = item_buttons(item)
            if buttons:
                updated.append(ActionsBlock(block_id=row.actions_id, elements=buttons).to_dict())
    return updated
