"""The weekly digest: a parent message and one reply per role, with triage buttons per item.

Each item row has block ids made by `Row` from its list and item id, so a row is found again by
comparing ids, never by parsing them; each counted heading has a fixed block id, so a triage in
the thread can recount it. Every count is the rows it heads plus an explicit "…and N more"
(and, for feedback, how many are listed elsewhere in the reply: each item is shown once).

A digest is for reading, posted to a whole channel: it names people (`Names`, read from Slack
before it is built: `people`) and mentions nobody, so it pings nobody, whatever their hour.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, HeaderBlock

from bot.blocks.cards import handled, item_buttons
from bot.blocks.common import (
    ROLE_LABEL,
    SECTION_LIMIT,
    STATUS_LABEL,
    Message,
    Names,
    Person,
    context,
    day_label,
    mention,
    plural,
    quoted_name,
    render_blocks,
    section,
)
from bot.blocks.lists import milestone_line
from bot.mrkdwn import safe_mrkdwn
from storage.digest import FeedbackCounts, ProductDigest, ProjectDigest
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


def _item_line(entry: QueuedItem, now: datetime, row: Row, names: Names) -> str:
    item = entry.item
    text = names.text(safe_mrkdwn(item.title or item.text, 400)[0])
    facts = [names(item.reporter_id), _age(item.created_at, now)]
    if entry.votes:
        facts.append(f"+{entry.votes}")
    if row.shows_owner:
        if item.status is ItemStatus.ACKNOWLEDGED:
            facts.append(f"owned by {names(item.handled_by)}")
        else:
            facts.append("not acknowledged")
    if item.permalink:
        facts.append(f"<{item.permalink}|source>")
    return f"*#{item.id}* {text}\n_{' · '.join(facts)}_"


def _rows(entries: Sequence[QueuedItem], listing: str, now: datetime, names: Names) -> list[Block]:
    """Each item with the same buttons its card has, so triage works here."""
    blocks: list[Block] = []
    for entry in entries:
        row = Row(listing, entry.item.id)
        blocks.append(section(_item_line(entry, now, row, names), row.line_id))
        buttons = item_buttons(entry.item)
        if buttons:
            blocks.append(ActionsBlock(block_id=row.actions_id, elements=buttons))
    return blocks


def _more(hidden: int, command: str, channel_id: str) -> list[Block]:
    if hidden <= 0:
        return []
    return [context(f"…and {hidden:,} more: `{command}` in <#{channel_id}> lists them.")]


def _for(role: Role, holders: Sequence[str], names: Names) -> str:
    label = ROLE_LABEL[role]
    if not holders:
        return f"nobody is the {label} yet (`/role @person {role.value}`)"
    return f"for {', '.join(names(holder) for holder in holders)} ({label})"


def _lines(
    heading: str, lines: Sequence[str], empty: str, names: Names, total: int | None = None
) -> Block:
    """A heading and up to LISTED_LINES lines in one section (always within 3,000 chars, the
    mentions people typed in them written as names), then how many more of `total` (default:
    of `lines`) there are."""
    shown = list(lines[:LISTED_LINES])
    hidden = (len(lines) if total is None else total) - len(shown)
    if hidden > 0:
        shown.append(f"…and {hidden:,} more.")
    body = "\n".join(shown) if shown else f"_{empty}_"
    return section(safe_mrkdwn(names.text(f"{heading}\n{body}"), SECTION_LIMIT)[0])


def risk_facts(risk: OpenRisk, person: Person = mention) -> list[str]:
    """What a risk line says besides its text: high or not, likelihood and impact, its owner
    (as `person` writes people: App Home mentions, the digest names), where it stands, the
    milestone it threatens."""
    item = risk.item
    facts = [":rotating_light: *high*"] if risk.high else []
    facts.append(f"likelihood {_level(item.likelihood)} · impact {_level(item.impact)}")
    facts.append(f"owner {person(item.assignee_id)}" if item.assignee_id else "no owner")
    if item.status is ItemStatus.MITIGATING:
        facts.append("mitigating")
    if risk.milestone is not None:
        facts.append(f"threatens *{quoted_name(risk.milestone, 80)}*")
    return facts


def risk_preview(item: Item) -> str:
    return safe_mrkdwn(" ".join((item.title or item.text).split()), RISK_PREVIEW)[0]


def _level(level: Level | None) -> str:
    return level.value if level else "not set"


def _risks(title: str, risks: Risks, empty: str, names: Names) -> Block:
    """Open risks, high first: one line each, and how many more there are."""
    high = f", {risks.high} high" if risks.high else ""
    lines = [
        f"• *#{r.item.id}* {risk_preview(r.item)} — {' · '.join(risk_facts(r, names))}"
        for r in risks.shown
    ]
    hidden = risks.total - len(risks.shown)
    if hidden > 0:
        lines.append(f"…and {hidden} more.")
    return _lines(f"*{title}* ({risks.total}{high})", lines, empty, names)


def _roadmap(digest: ProductDigest, names: Names) -> list[Block]:
    """The quarter's roadmap themes and how far along their milestones are."""
    if digest.quarter is None:
        return []
    lines = [
        f"• *{quoted_name(p.theme.name)}* — "
        + (f"{p.done} of {plural(p.total, 'milestone')} done" if p.total else "no milestones yet")
        for p in digest.themes
    ]
    return [
        _lines(f"*Roadmap, {digest.quarter}*", lines, f"No themes for {digest.quarter}.", names)
    ]


TO = " \N{EN DASH} "  # between a period's first and last day, as people write it


def period_label(first: date, last: date) -> str:
    """The days a digest covers, both included, with an en dash: "30 Nov to 6 Dec" in the
    same year, "1 to 7 Dec" in the same month, "28 Dec 2026 to 3 Jan 2027" across a year."""
    if first.year != last.year:
        return f"{first.day} {first:%b %Y}{TO}{last.day} {last:%b %Y}"
    if first.month != last.month:
        return f"{first.day} {first:%b}{TO}{last.day} {last:%b}"
    return f"{first.day}{TO}{last.day} {last:%b}"


def digest_parent(channel_id: str, period: str) -> Message:
    title = f"Weekly digest — {period}"
    blocks: list[Block] = [
        HeaderBlock(text=title),
        context(
            f"For <#{channel_id}>: the product and project replies are in this "
            "thread, with buttons to triage from here."
        ),
    ]
    return Message(f"{title} (<#{channel_id}>)", render_blocks(blocks))


def quiet_line(channel_id: str) -> Message:
    """The whole digest of a team with nothing new and nothing open (`QuietWeek.LINE`)."""
    return Message(f"A quiet week in <#{channel_id}>: nothing new and nothing open.", [])


FILED_HEADING = "digest_filed"
VOTED_HEADING = "digest_voted"
WAITING_HEADING = "digest_waiting"
BLOCKERS_HEADING = "digest_blockers"


def product_headings(counts: FeedbackCounts, period: str) -> list[Block]:
    """The product reply's counted headings, each under its own block id: a triage in the
    thread swaps them for fresh ones (`settled_in_place`)."""
    statuses = ", ".join(
        f"{count:,} {STATUS_LABEL[status].lower()}"
        for status, count in sorted(counts.filed_by_status.items(), key=_status_order)
    )
    filed = f"*Feedback filed {period}: {counts.filed:,}*" + (f" ({statuses})" if statuses else "")
    return [
        section(filed, FILED_HEADING),
        section(f"*Most +1'd open feedback* ({counts.voted:,})", VOTED_HEADING),
        section(f"*Waiting for triage longest* ({counts.open:,} open)", WAITING_HEADING),
    ]


def project_headings(open_blockers: int) -> list[Block]:
    """The project reply's counted heading (see `product_headings`)."""
    return [section(f"*Open blockers, oldest first* ({open_blockers:,})", BLOCKERS_HEADING)]


def _status_order(entry: tuple[ItemStatus, int]) -> int:
    return list(ItemStatus).index(entry[0])


def _filed(digest: ProductDigest, names: Names) -> Block:
    """The feedback filed in the period that neither list below shows, and how the count adds
    up: these lines, how many more, and how many are listed below."""
    filed = digest.filed
    lines = [
        f"• {quoted_name(e.item.title or e.item.text, 200)}"
        + (f" (+{e.votes})" if e.votes else "")
        + (f" · <{e.item.permalink}|source>" if e.item.permalink else f" · #{e.item.id}")
        for e in filed.shown
    ]
    hidden = filed.total - len(filed.shown)
    if hidden > 0:
        lines.append(f"…and {hidden:,} more.")
    below = digest.counts.filed - filed.total
    if below > 0:
        lines.append(f"_{below:,} of them {'is' if below == 1 else 'are'} listed below._")
    text = names.text("\n".join(lines)) or "_No new feedback._"
    return section(safe_mrkdwn(text, SECTION_LIMIT)[0])


def _waiting_rest(digest: ProductDigest, channel_id: str) -> list[Block]:
    """What the waiting list's count holds besides its rows: those under Most +1'd above, and
    how many more there are."""
    above = len(digest.most_voted)
    hidden = digest.counts.open - above - len(digest.waiting)
    if digest.counts.open == 0:
        return [context("_Nothing is waiting for triage._")]
    if above <= 0:
        return _more(hidden, "/feedback list", channel_id)
    text = f"…and {above:,} under Most +1'd above"
    if hidden > 0:
        text += f", and {hidden:,} more: `/feedback list` in <#{channel_id}> lists them"
    return [context(text + ".")]


def product_reply(
    channel_id: str,
    holders: Sequence[str],
    digest: ProductDigest,
    now: datetime,
    period: str,
    names: Names,
) -> Message:
    counts = digest.counts
    filed_heading, voted_heading, waiting_heading = product_headings(counts, period)
    voted_hidden = counts.voted - len(digest.most_voted)
    blocks: list[Block] = [
        section(f":bulb: *Product* — {_for(Role.PRODUCT, holders, names)}"),
        filed_heading,
        _filed(digest, names),
        *_roadmap(digest, names),
        _risks(
            "Open market risks, high first",
            digest.market_risks,
            "No open market risks.",
            names,
        ),
        voted_heading,
        *_rows(digest.most_voted, "voted", now, names),
        *([] if counts.voted else [context("_No open feedback has a +1 yet._")]),
        *_more(voted_hidden, "/feedback list", channel_id),
        waiting_heading,
        *_rows(digest.waiting, "waiting", now, names),
        *_waiting_rest(digest, channel_id),
    ]
    fallback = f"Product digest for <#{channel_id}>: {counts.filed:,} filed {period}"
    return Message(fallback, render_blocks(blocks))


def project_reply(
    channel_id: str,
    holders: Sequence[str],
    digest: ProjectDigest,
    now: datetime,
    today: date,
    period: str,
    names: Names,
) -> Message:
    resolved = [
        f"• *#{e.item.id}* {quoted_name(e.item.title or e.item.text, 200)}"
        f" · by {names(e.item.handled_by)}"
        for e in digest.resolved.shown
    ]
    overdue = [
        milestone_line(entry, names) + f" · *{(today - entry.milestone.due_date).days}d overdue*"
        for entry in digest.overdue_milestones
    ] + [
        f"• deadline *{quoted_name(d.task, 200)}* — {day_label(d.due_date)} · "
        f"{names(d.assignee_id)}"
        for d in digest.overdue_deadlines
    ]
    blockers = digest.open_blockers
    blocks: list[Block] = [
        section(f":no_entry: *Project* — {_for(Role.PROJECT, holders, names)}"),
        *project_headings(blockers.total),
        *_rows(blockers.shown, "blocker", now, names),
        *([] if blockers.total else [context("_No open blockers._")]),
        *_more(blockers.total - len(blockers.shown), "/blocker list", channel_id),
        _risks(
            "Open operational risks, high first",
            digest.operational_risks,
            "No open operational risks.",
            names,
        ),
        _lines(
            f"*Blockers resolved {period}* ({digest.resolved.total:,})",
            resolved,
            "None resolved.",
            names,
            digest.resolved.total,
        ),
        _lines(
            "*Scope creep: items accepted after a milestone's freeze*",
            [
                f"• *{quoted_name(c.milestone.name)}*: "
                f"{plural(c.accepted, 'item')} accepted after the freeze"
                for c in digest.scope_creep
            ],
            "Nothing accepted after a freeze.",
            names,
        ),
        _lines(
            "*Milestones due in the next 14 days*",
            [milestone_line(m, names) for m in digest.milestones_soon],
            "Nothing due in the next 14 days.",
            names,
        ),
        _lines(
            "*Overdue milestones and deadlines*",
            overdue,
            "Nothing overdue.",
            names,
            len(digest.overdue_milestones) + digest.overdue_deadline_total,
        ),
    ]
    fallback = f"Project digest for <#{channel_id}>: {blockers.total:,} open blockers"
    return Message(fallback, render_blocks(blocks))


def settled_in_place(
    blocks: list[dict[str, Any]],
    entry: QueuedItem,
    now: datetime,
    names: Names,
    headings: Sequence[Block] = (),
    tz: tzinfo = UTC,
) -> list[dict[str, Any]]:
    """A digest message after one of its items was triaged: that item's rows show its new
    state (naming people, as the rest of the digest does: `item_people`; a snooze's day in the
    team's zone `tz`) and the buttons that still apply, and the counted headings are swapped
    for `headings` (recounted, matched by block id); the rest of the message is unchanged."""
    item: Item = entry.item
    fresh = {heading.block_id: heading.to_dict() for heading in headings}
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
        if block_id in fresh:
            same = block.get("text", {}).get("text") == fresh[block_id]["text"]["text"]
            updated.append(block if same else fresh[block_id])
        elif row is None:
            updated.append(block)
        elif block_id == row.line_id:
            updated.append(section(_item_line(entry, now, row, names), row.line_id).to_dict())
        elif block_id == row.status_id:
            if row.actions_id not in present:
                updated.append(block)  # no buttons left to rewrite it from: keep it
        else:
            if item.status is not ItemStatus.OPEN:
                updated.append(context(names.text(handled(item, tz=tz)), row.status_id).to_dict())
            buttons = item_buttons(item)
            if buttons:
                updated.append(ActionsBlock(block_id=row.actions_id, elements=buttons).to_dict())
    return updated


# A mention as people type it (Slack sends `<@U1>` or `<@U1|ann>`).
_TYPED_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^<>]*)?>")


def typed_people(*texts: str | None) -> set[str]:
    """The people mentioned in texts as typed."""
    return {match.group(1) for text in texts if text for match in _TYPED_MENTION.finditer(text)}


def item_people(item: Item) -> set[str]:
    """Whom an item's row can name: in its line, in its status after a triage, in its text."""
    named = {item.reporter_id, item.handled_by, item.assignee_id}
    return {user for user in named if user} | typed_people(item.title, item.text, item.reason)


def people(product: ProductDigest, project: ProjectDigest) -> set[str]:
    """Everyone the two replies name besides the role holders: whose names are read from
    Slack before they are built."""
    rows = [*product.most_voted, *product.waiting, *project.open_blockers.shown]
    risks = [*product.market_risks.shown, *project.operational_risks.shown]
    milestones = [t.milestone for t in (*project.milestones_soon, *project.overdue_milestones)]
    named = set().union(*(item_people(entry.item) for entry in rows))
    named |= {entry.item.handled_by for entry in project.resolved.shown if entry.item.handled_by}
    named |= {risk.item.assignee_id for risk in risks if risk.item.assignee_id}
    named |= {milestone.owner_id for milestone in milestones if milestone.owner_id}
    named |= {deadline.assignee_id for deadline in project.overdue_deadlines}
    return named | typed_people(
        *(entry.item.title or entry.item.text for entry in product.filed.shown),
        *(entry.item.title or entry.item.text for entry in project.resolved.shown),
        *(risk.item.title or risk.item.text for risk in risks),
        *(risk.milestone for risk in risks),
        *(milestone.name for milestone in milestones),
        *(creep.milestone.name for creep in project.scope_creep),
        *(deadline.task for deadline in project.overdue_deadlines),
        *(progress.theme.name for progress in product.themes),
    )
