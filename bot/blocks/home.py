"""App Home: one person's queues, per role they hold, and what they raised; each manager's
open risks, and the milestones (and, for the product manager, this quarter's roadmap themes)
with their why: the feedback planned into them.

Pure functions of what `bot.home.Home` read (`HomeData`) and of the view's state (`HomeState`:
the filters and the page each section is on, kept in the view's private_metadata). Every
section is capped, so a view has at most `VIEW_BLOCKS` blocks however long the queues are, and
every piece of text people typed goes through `safe_mrkdwn`.
"""

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConversationFilter,
    ConversationSelectElement,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
)
from slack_sdk.models.blocks.basic_components import DispatchActionConfig

from bot.blocks.cards import item_buttons
from bot.blocks.common import (
    KIND_LABEL,
    ROLE_LABEL,
    STATUS_LABEL,
    capped,
    context,
    day_label,
    plural,
    quoted_name,
    render_blocks,
    section,
)
from bot.blocks.digest import risk_facts, risk_preview
from bot.blocks.lists import risk_reason
from bot.clock import as_utc
from bot.mrkdwn import safe_mrkdwn
from bot.parsing.words import TAG_NAME
from bot.schedule import local_today, zone
from storage.items import QueuedItem
from storage.models import Deadline, Item, ItemStatus, Milestone, Role, RoleAssignment, WorkStatus
from storage.planning import TrackedMilestone
from storage.queues import Risks
from storage.roadmap import Quarter, ThemeProgress

VIEW_BLOCKS = 100  # Slack's limit for a Home tab
METADATA_LIMIT = 3000  # Slack's limit for private_metadata
ROWS = 5  # items per section (each a section and its buttons)
LISTED = 5  # milestones, deadlines per list
ROLES_LISTED = 20
TEAMS_NAMED = 10
CURSOR_LIMIT = 100
SUMMARY_LIMIT = 200  # characters of an item's title or text in a row
MILESTONE_DAYS = 14
COUNT_CAP = 1000  # counts stop here ("1,000+"): a count reads no more of a queue than this
RISK_ROWS = 4  # open risks per section (each a section and its buttons)
ROADMAP_THEMES = 4  # themes in "This quarter" (a section each)
THEME_MILESTONES = 3  # milestones under each theme
WHY_NAMED = 2  # planned feedback named in a milestone's why
WHY_PREVIEW = 40  # characters of each
CALLBACK_ID = "rolecall_home"

# Every action of the Home's own controls starts with "home_" (the listener's pattern); the
# triage buttons on its rows are the cards' own (`item_buttons`).
TEAM = "home_team"
STATUS = "home_status"
TAG = "home_tag"
CLEAR = "home_clear"
MORE = "home_more"
TOP = "home_top"
HOME_ACTIONS = (TEAM, STATUS, TAG, CLEAR, MORE, TOP)

_CHANNEL = re.compile(r"[CG][A-Z0-9]{1,31}")


class Section(StrEnum):
    """A paged list of items in the Home; the value names it in state and button values."""

    NEW = "new"
    WAITING = "waiting"
    VOTED = "voted"
    BLOCKERS = "blockers"
    RAISED = "raised"


SECTIONS = frozenset(section.value for section in Section)
SECTION_TITLE = {
    Section.NEW: "New",
    Section.WAITING: "Waiting longest",
    Section.VOTED: "Most +1'd",
    Section.BLOCKERS: "Open blockers, unacknowledged first",
    Section.RAISED: "What you raised",
}
SECTION_EMPTY = {
    Section.NEW: "Nothing here.",
    Section.WAITING: "Nothing here.",
    Section.VOTED: "Nothing else with a +1 here.",
    Section.BLOCKERS: "No open blockers. :tada:",
    Section.RAISED: "Nothing yet: `/feedback …` or `/blocker …` in a team channel files one.",
}
# What the product queue can be filtered to, in the order the menu offers them.
FILTER_STATUSES = (
    ItemStatus.OPEN,
    ItemStatus.NEEDS_INFO,
    ItemStatus.SNOOZED,
    ItemStatus.PLANNED,
    ItemStatus.DECLINED,
)
_MORE_LABELS = {ItemStatus.NEEDS_INFO: "Needs info", ItemStatus.SNOOZED: "Snoozed"}
HOW_TO = (
    "*How Rolecall works*\n"
    "Feedback goes to a team's *product manager*, blockers to its *project manager*. Raise one "
    "in a team channel with `/feedback …` or `/blocker …`, a message starting `feedback:` or "
    "`blocker:`, or a :bulb: or :no_entry: reaction on any message. `/role` shows who holds "
    "which role; you hear back when what you raised is handled."
)


def status_label(status: ItemStatus) -> str:
    return STATUS_LABEL.get(status) or _MORE_LABELS.get(status) or status.value.capitalize()


def tag_of(text: str) -> str | None:
    """A tag as people type it ("#Pricing", "pricing ") as stored (lowercase, no "#"); None
    when it is not one."""
    tag = text.strip().removeprefix("#").lower()
    return tag if TAG_NAME.fullmatch(tag) else None


def team_of(text: object) -> str | None:
    """A channel id that could be a team, else None."""
    return text if isinstance(text, str) and _CHANNEL.fullmatch(text) else None


@dataclass(frozen=True)
class HomeState:
    """What a person chose in their Home: the product queue's filters and each section's page
    (the cursor it starts after). Kept in the view's private_metadata, so every click carries
    it back; a value that does not parse is dropped for its default."""

    team: str | None = None  # None: every team where they are the product manager
    status: ItemStatus = ItemStatus.OPEN
    tag: str | None = None
    after: Mapping[Section, str] = field(default_factory=dict)

    @property
    def filtered(self) -> bool:
        return bool(self.team or self.tag or self.status is not ItemStatus.OPEN)

    def to_metadata(self) -> str:
        return json.dumps(
            {
                "team": self.team,
                "status": self.status.value,
                "tag": self.tag,
                "after": {section.value: cursor for section, cursor in self.after.items()},
            },
            separators=(",", ":"),
        )

    @classmethod
    def parse(cls, raw: object) -> "HomeState":
        """The state a view's private_metadata carries; junk (a forged or an old view) gives
        the defaults, field by field."""
        data: object = None
        if isinstance(raw, str) and len(raw) <= METADATA_LIMIT:
            try:
                data = json.loads(raw)
            except (ValueError, RecursionError):
                data = None
        if not isinstance(data, dict):
            return cls()
        status = data.get("status")
        tag = data.get("tag")
        pages = data.get("after")
        after: dict[Section, str] = {}
        if isinstance(pages, dict):
            for name, cursor in pages.items():
                if name in SECTIONS and _is_cursor(cursor):
                    after[Section(name)] = cursor
        return cls(
            team=team_of(data.get("team")),
            status=ItemStatus(status) if status in FILTER_STATUSES else ItemStatus.OPEN,
            tag=tag_of(tag) if isinstance(tag, str) else None,
            after=after,
        )

    def with_filters(self, **changes: Any) -> "HomeState":
        """New filters, every section from its first page."""
        return replace(self, after={}, **changes)

    def paged(self, section: Section, cursor: str | None) -> "HomeState":
        """One section on the page after `cursor` (None: its first page)."""
        after = {s: c for s, c in self.after.items() if s is not section}
        if cursor is not None and _is_cursor(cursor):
            after[section] = cursor
        return replace(self, after=after)

    def from_top(self) -> "HomeState":
        return replace(self, after={})


def _is_cursor(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= CURSOR_LIMIT and value.isprintable()


@dataclass(frozen=True)
class Rows:
    """One section's page of items: `after` is the cursor of the next page (None: the last);
    `paged`: this is not the first page."""

    entries: Sequence[QueuedItem] = ()
    after: str | None = None
    paged: bool = False


# Why a milestone exists: the first planned feedback items (most +1'd first) and how many in all.
Why = tuple[Sequence[QueuedItem], int]


@dataclass(frozen=True)
class Roadmap:
    """The themes of one quarter in the product manager's teams: the first few (`themes`) of
    `total`, every milestone of each (by theme id, soonest first), and the why of those shown."""

    quarter: Quarter
    themes: Sequence[ThemeProgress] = ()
    total: int = 0
    milestones: Mapping[int, Sequence[Milestone]] = field(default_factory=dict)
    whys: Mapping[int, Why] = field(default_factory=dict)


@dataclass(frozen=True)
class ProductPart:
    """The product manager's queue across the teams where they hold the role, their open
    market risks and this quarter's roadmap."""

    teams: Sequence[str]
    counts: Mapping[ItemStatus, int]
    new: Rows = Rows()
    waiting: Rows = Rows()
    voted: Rows = Rows()
    risks: Risks = field(default_factory=Risks)
    roadmap: Roadmap | None = None
    zones: Mapping[str, ZoneInfo] = field(default_factory=dict)  # team → its time zone


@dataclass(frozen=True)
class ProjectPart:
    """The project manager's blockers, open operational risks, milestones (each with its
    why, by milestone id) and overdue deadlines in their teams."""

    teams: Sequence[str]
    counts: Mapping[ItemStatus, int]
    blockers: Rows = Rows()
    milestones: Sequence[TrackedMilestone] = ()
    milestones_total: int = 0
    overdue: Sequence[Deadline] = ()
    overdue_total: int = 0
    risks: Risks = field(default_factory=Risks)
    whys: Mapping[int, Why] = field(default_factory=dict)
    zones: Mapping[str, ZoneInfo] = field(default_factory=dict)  # team → its time zone


@dataclass(frozen=True)
class HomeData:
    """Everything one person's Home shows, as read for them."""

    user_id: str
    assignments: Sequence[RoleAssignment]
    now: datetime
    state: HomeState = field(default_factory=HomeState)
    product: ProductPart | None = None
    project: ProjectPart | None = None
    raised: Rows = Rows()
    deadlines: Sequence[Deadline] = ()
    deadlines_total: int = 0
    note: str | None = None  # mrkdwn the bot wrote (never people's text unescaped)


def home_view(data: HomeData) -> dict[str, Any]:
    """The Home tab: counts, then a part per role held, then what everyone has. An item shows
    once: in the first section that has it."""
    seen: set[int] = set()
    blocks: list[Block] = [HeaderBlock(text="Rolecall"), section(_summary(data), "home_summary")]
    if data.note:
        blocks.append(context(data.note, "home_note"))
    if data.product is not None:
        blocks += _product(data.product, data.state, data.now, seen)
    if data.project is not None:
        blocks += _project(data.project, data.now, seen)
    blocks += _everyone(data, seen)
    return {
        "type": "home",
        "callback_id": CALLBACK_ID,
        "private_metadata": data.state.to_metadata(),
        "blocks": render_blocks(_within_limit(blocks)),
    }


def _summary(data: HomeData) -> str:
    lines = []
    if data.product is not None:
        counts = data.product.counts
        lines.append(
            f"*Product queue:* {_count(counts, ItemStatus.OPEN)} open · "
            f"{_count(counts, ItemStatus.NEEDS_INFO)} needs info · "
            f"{_count(counts, ItemStatus.SNOOZED)} snoozed"
        )
        lines.append(f"*Market risks:* {_risk_count(data.product.risks)}")
    if data.project is not None:
        counts = data.project.counts
        waiting = counts.get(ItemStatus.OPEN, 0)
        both = {ItemStatus.OPEN: waiting + counts.get(ItemStatus.ACKNOWLEDGED, 0)}
        lines.append(
            f"*Blockers:* {_count(both, ItemStatus.OPEN)} open "
            f"({_count(counts, ItemStatus.OPEN)} unacknowledged)"
        )
        lines.append(f"*Operational risks:* {_risk_count(data.project.risks)}")
    if not lines:
        lines.append(
            "You hold no role yet, so this is what you raised. A team's roles are given with "
            "`/role @person product` and `/role @person project` in its channel."
        )
    return "\n".join(lines)


# Product manager -------------------------------------------------------------------------


def _product(part: ProductPart, state: HomeState, now: datetime, seen: set[int]) -> list[Block]:
    showing = [status_label(state.status).lower()]
    if state.team:
        showing.append(f"<#{state.team}>")
    if state.tag:
        showing.append(f"#{state.tag}")
    blocks: list[Block] = [
        DividerBlock(),
        section(
            f"*Product manager* · feedback for {_teams(part.teams)}\n"
            f"Showing: {' · '.join(showing)}",
            "home_product",
        ),
        *_filters(part, state),
    ]
    for name, rows in (
        (Section.NEW, part.new),
        (Section.WAITING, part.waiting),
        (Section.VOTED, part.voted),
    ):
        blocks += _item_rows(name, rows, seen, lambda item: _feedback_row(item, now, part.zones))
    blocks += _risk_rows("market_risks", "Open market risks, high first", part.risks, seen)
    if part.roadmap is not None:
        blocks += _roadmap(part.roadmap)
    return blocks


def _roadmap(roadmap: Roadmap) -> list[Block]:
    """This quarter's themes, each with its milestones done and their why."""
    title = f"*This quarter ({roadmap.quarter})*"
    if not roadmap.themes:
        return [section(f"{title}\n_No roadmap themes for {roadmap.quarter}._", "home_roadmap")]
    blocks: list[Block] = [section(title, "home_roadmap")]
    for progress in roadmap.themes[:ROADMAP_THEMES]:
        theme = progress.theme
        done = (
            f"{progress.done} of {plural(progress.total, 'milestone')} done"
            if progress.total
            else "no milestones yet"
        )
        milestones = roadmap.milestones.get(theme.id or 0, ())
        lines = [
            f"*{quoted_name(theme.name)}* in <#{theme.team_channel_id}> — {done}",
            *(
                f"◦ *{quoted_name(m.name, 80)}* · "
                + ("done" if m.status is WorkStatus.DONE else f"due {day_label(m.due_date)}")
                + f" · {_why(roadmap.whys.get(m.id or 0))}"
                for m in milestones[:THEME_MILESTONES]
            ),
            *_more(len(milestones), len(milestones), THEME_MILESTONES),
        ]
        blocks.append(section("\n".join(lines), f"home_theme_{theme.id}"))
    more = _more(roadmap.total, len(roadmap.themes), ROADMAP_THEMES)
    return blocks + [context(line, "home_roadmap_more") for line in more]


def _why(found: Why | None) -> str:
    """Why a milestone exists: "3 planned · why: #12 CSV export (5 +1s), +2 more"."""
    entries, total = found or ((), 0)
    if not total:
        return "no feedback planned into it yet"
    named = [
        f"#{e.item.id} {_summary_of(e.item, WHY_PREVIEW)} ({plural(e.votes, '+1')})"
        for e in entries[:WHY_NAMED]
    ]
    if total > len(named):
        named.append(f"+{total - len(named)} more")
    return f"{total} planned · why: {', '.join(named)}"


def _filters(part: ProductPart, state: HomeState) -> list[Block]:
    elements: list[Any] = []
    if len(part.teams) > 1:
        elements.append(
            ConversationSelectElement(
                action_id=TEAM,
                placeholder="All my teams",
                initial_conversation=state.team,
                filter=ConversationFilter(include=["public", "private"], exclude_bot_users=True),
            )
        )
    options = {
        status: Option(value=status.value, label=status_label(status)) for status in FILTER_STATUSES
    }
    elements.append(
        StaticSelectElement(
            action_id=STATUS,
            placeholder="Status",
            options=list(options.values()),
            initial_option=options[state.status],
        )
    )
    if state.filtered:
        elements.append(ButtonElement(text="Clear filters", action_id=CLEAR, value="clear"))
    tag = InputBlock(
        # A new block id when the tag changes, so Slack shows the tag the view is filtered by
        # rather than what was last typed there.
        block_id=f"home_tag_{state.tag or ''}",
        label="Tag",
        element=PlainTextInputElement(
            action_id=TAG,
            placeholder="#pricing, then Enter",
            initial_value=f"#{state.tag}" if state.tag else None,
            max_length=40,
            dispatch_action_config=DispatchActionConfig(trigger_actions_on=["on_enter_pressed"]),
        ),
        dispatch_action=True,
        optional=True,
    )
    return [ActionsBlock(block_id="home_filters", elements=elements), tag]


def _feedback_row(item: Item, now: datetime, zones: Mapping[str, ZoneInfo]) -> str:
    facts = [f"<#{item.team_channel_id}>", f"by <@{item.reporter_id}>"]
    if item.vote_count:
        facts.append(f"+{item.vote_count}")
    if item.customer:
        facts.append(f"customer: {quoted_name(item.customer, 80)}")
    if item.impact:
        facts.append(f"impact: {item.impact.value}")
    facts.extend(f"#{tag}" for tag in item.tags.split()[:5])
    if item.status is ItemStatus.SNOOZED and item.snoozed_until:
        until = local_today(as_utc(item.snoozed_until), _zone_of(item.team_channel_id, zones))
        facts.append(f"snoozed until {day_label(until)}")
    elif item.status is not ItemStatus.OPEN:
        facts.append(status_label(item.status).lower())
    facts.append(f"filed {age(item.created_at, now)} ago")
    return f"*#{item.id}* {_summary_of(item)}\n{' · '.join(facts)}"


# Project manager -------------------------------------------------------------------------


def _project(part: ProjectPart, now: datetime, seen: set[int]) -> list[Block]:
    unacknowledged_first = sorted(
        part.blockers.entries, key=lambda entry: entry.item.status is not ItemStatus.OPEN
    )
    blockers = replace(part.blockers, entries=unacknowledged_first)
    return [
        DividerBlock(),
        section(f"*Project manager* · {_teams(part.teams)}", "home_project"),
        *_item_rows(Section.BLOCKERS, blockers, seen, lambda item: _blocker_row(item, now)),
        *_risk_rows("operational_risks", "Open operational risks, high first", part.risks, seen),
        section(_milestones(part, now), "home_milestones"),
        section(_overdue(part, now), "home_overdue"),
    ]


def _blocker_row(item: Item, now: datetime) -> str:
    if item.status is ItemStatus.OPEN:
        where = ":warning: *unacknowledged*"
    else:
        where = f"acknowledged by <@{item.handled_by}>"
    facts = [where, f"waiting {age(item.created_at, now)}", f"<#{item.team_channel_id}>"]
    facts.append(f"by <@{item.reporter_id}>")
    if item.severity:
        facts.append(f"severity: {item.severity.value}")
    if item.assignee_id:
        facts.append(f"assigned to <@{item.assignee_id}>")
    return f"*#{item.id}* {_summary_of(item)}\n{' · '.join(facts)}"


def _milestones(part: ProjectPart, now: datetime) -> str:
    """Each milestone's "due today" or "in N days" counts in its team's time zone."""
    title = f"*Milestones due in the next {MILESTONE_DAYS} days*"
    at_risk_first = sorted(
        part.milestones, key=lambda t: (not t.at_risk, t.milestone.due_date, t.milestone.id or 0)
    )
    lines = []
    for tracked in at_risk_first[:LISTED]:
        milestone = tracked.milestone
        today = local_today(now, _zone_of(milestone.team_channel_id, part.zones))
        line = (
            f"• *{quoted_name(milestone.name)}* in <#{milestone.team_channel_id}>: "
            f"{day_label(milestone.due_date)} ({_when(milestone.due_date, today)})"
        )
        if tracked.at_risk:
            line = f"{line} · :warning: at risk: {risk_reason(tracked)}"
        lines.append(f"{line} · {_why(part.whys.get(milestone.id or 0))}")
    if not lines:
        return f"{title}\n_None._"
    return "\n".join([title, *lines, *_more(part.milestones_total, len(part.milestones), LISTED)])


def _overdue(part: ProjectPart, now: datetime) -> str:
    title = "*Overdue deadlines*"
    lines = [
        f"• {quoted_name(d.task)}: <@{d.assignee_id}> in <#{d.team_channel_id}>, "
        f"{_when(d.due_date, _assignee_today(d, now))}"
        for d in part.overdue[:LISTED]
    ]
    if not lines:
        return f"{title}\n_None._"
    return "\n".join([title, *lines, *_more(part.overdue_total, len(part.overdue), LISTED)])


# Risks -----------------------------------------------------------------------------------


def _risk_rows(name: str, title: str, risks: Risks, seen: set[int]) -> list[Block]:
    """Open risks, high first: each with the buttons its card has, then how many more."""
    heading = f"*{title}* ({_risk_count(risks)})"
    if not risks.shown:
        return [section(f"{heading}\n_None open._", f"home_{name}")]
    blocks: list[Block] = [section(heading, f"home_{name}")]
    shown = risks.shown[:RISK_ROWS]
    for risk in shown:
        item = risk.item
        seen.add(item.id or 0)
        facts = [*risk_facts(risk), f"<#{item.team_channel_id}>"]
        row = f"*#{item.id}* {risk_preview(item)}\n{' · '.join(facts)}"
        blocks.append(section(row, f"home_risk_{item.id}"))
        elements = item_buttons(item)
        if elements:
            blocks.append(ActionsBlock(block_id=f"home_risk_{item.id}_actions", elements=elements))
    hidden = risks.total - len(shown)
    if hidden > 0:
        blocks.append(context(f"…and {hidden} more.", f"home_{name}_more"))
    return blocks


def _risk_count(risks: Risks) -> str:
    return f"{risks.total:,} open" + (f", {risks.high:,} high" if risks.high else "")


# Everyone --------------------------------------------------------------------------------


def _everyone(data: HomeData, seen: set[int]) -> list[Block]:
    deadlines = [
        f"• {quoted_name(d.task)} in <#{d.team_channel_id}>: {day_label(d.due_date)} "
        f"({_when(d.due_date, _assignee_today(d, data.now))})"
        for d in data.deadlines[:LISTED]
    ]
    mine = "\n".join([*deadlines, *_more(data.deadlines_total, len(data.deadlines), LISTED)])
    roles = capped(
        [f"• {ROLE_LABEL[a.role]} in <#{a.channel_id}>" for a in _by_role(data.assignments)],
        ROLES_LISTED,
    )
    return [
        DividerBlock(),
        *_item_rows(
            Section.RAISED, data.raised, seen, lambda item: _raised_row(item, data.now), False
        ),
        section(f"*Your open deadlines*\n{mine or '_None._'}", "home_deadlines"),
        section(
            f"*Your roles, <@{data.user_id}>*\n" + ("\n".join(roles) or "You hold no roles yet."),
            "home_roles",
        ),
        section(HOW_TO, "home_how_to"),
    ]


def _raised_row(item: Item, now: datetime) -> str:
    return (
        f"*#{item.id}* {KIND_LABEL[item.kind]} · *{status_label(item.status)}* · "
        f"<#{item.team_channel_id}> · {age(item.created_at, now)} ago\n{_summary_of(item)}"
    )


def _by_role(assignments: Sequence[RoleAssignment]) -> list[RoleAssignment]:
    order = {Role.PRODUCT: 0, Role.PROJECT: 1}
    return sorted(assignments, key=lambda a: (order[a.role], a.channel_id))


# Shared ----------------------------------------------------------------------------------


def _item_rows(
    name: Section,
    rows: Rows,
    seen: set[int],
    describe: Callable[[Item], str],
    buttons: bool = True,
) -> list[Block]:
    """A section's title, its rows (each with the item's triage buttons) and its paging; an
    item already shown above is left out."""
    fresh = [entry for entry in rows.entries if entry.item.id not in seen]
    shown = fresh[:ROWS]
    seen.update(entry.item.id for entry in shown if entry.item.id is not None)
    title = f"*{SECTION_TITLE[name]}*"
    blocks: list[Block] = []
    if not shown:
        blocks.append(section(f"{title}\n_{SECTION_EMPTY[name]}_", f"home_{name}"))
    else:
        blocks.append(section(title, f"home_{name}"))
    for entry in shown:
        item = entry.item
        blocks.append(section(describe(item), f"home_{name}_{item.id}"))
        elements = item_buttons(item) if buttons else []
        if elements:
            blocks.append(
                ActionsBlock(block_id=f"home_{name}_{item.id}_actions", elements=elements)
            )
    paging: list[ButtonElement] = []
    if rows.after is not None and shown:
        value = json.dumps({"s": name.value, "c": rows.after}, separators=(",", ":"))
        paging.append(ButtonElement(text="Show more", action_id=MORE, value=value))
    if rows.paged:
        paging.append(ButtonElement(text="Back to the top", action_id=TOP, value=name.value))
    if paging:
        blocks.append(ActionsBlock(block_id=f"home_{name}_paging", elements=paging))
    elif len(fresh) > ROWS:
        blocks.append(context(f"…and {len(fresh) - ROWS} more.", f"home_{name}_more"))
    return blocks


def _within_limit(blocks: list[Block]) -> list[Block]:
    """Never more than Slack takes: the sections above are capped so this does not happen,
    but a Home that Slack refused would show nothing at all."""
    if len(blocks) <= VIEW_BLOCKS:
        return blocks
    return [*blocks[: VIEW_BLOCKS - 1], context("…and more than a Home tab can show.")]


def _summary_of(item: Item, limit: int = SUMMARY_LIMIT) -> str:
    return safe_mrkdwn(" ".join((item.title or item.text).split()), limit)[0]


def _count(counts: Mapping[ItemStatus, int], status: ItemStatus) -> str:
    """A count as read: no further than `COUNT_CAP` (one more means "at least that")."""
    found = counts.get(status, 0)
    return f"{COUNT_CAP:,}+" if found > COUNT_CAP else f"{found:,}"


def _teams(teams: Sequence[str]) -> str:
    named = ", ".join(f"<#{team}>" for team in teams[:TEAMS_NAMED])
    hidden = len(teams) - TEAMS_NAMED
    return f"{named} and {hidden} more" if hidden > 0 else named


def _more(total: int, given: int, shown_at_most: int) -> list[str]:
    hidden = max(total, given) - min(given, shown_at_most)
    return [f"…and {hidden} more."] if hidden > 0 else []


def _zone_of(team: str, zones: Mapping[str, ZoneInfo]) -> ZoneInfo:
    """The team's time zone as read (UTC for a team the read did not look up)."""
    return zones.get(team) or zone("UTC")


def _assignee_today(deadline: Deadline, now: datetime) -> date:
    """The date where the deadline's assignee is: their reminders count it overdue from the
    day after its due date there, and so does Home."""
    return local_today(now, zone(deadline.assignee_tz))


def _when(due: date, today: date) -> str:
    days = (due - today).days
    if days < 0:
        return f"{plural(-days, 'day')} overdue"
    if days == 0:
        return "due today"
    return "due tomorrow" if days == 1 else f"in {days} days"


def age(since: datetime, now: datetime) -> str:
    """How long ago, roughly: "5 minutes", "3 hours", "2 days"."""
    seconds = max(0.0, (as_utc(now) - as_utc(since)).total_seconds())
    if seconds < 3600:
        return plural(max(1, int(seconds // 60)), "minute")
    if seconds < 86400:
        return plural(int(seconds // 3600), "hour")
    return plural(int(seconds // 86400), "day")


def horizon(today: date) -> date:
    """The last day the project manager's milestone list looks at."""
    return today + timedelta(days=MILESTONE_DAYS)
