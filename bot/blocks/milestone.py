"""One milestone, and why it exists: `/milestone show`, the news that it shipped, and the
news that it moved."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from slack_sdk.models.blocks import Block

from bot.blocks.common import (
    Message,
    context,
    day_label,
    plural,
    quoted_name,
    render_blocks,
    section,
)
from bot.blocks.lists import risk_reason
from bot.blocks.roadmap import state_label
from bot.mrkdwn import safe_mrkdwn
from storage.items import QueuedItem
from storage.models import Item, Milestone, Theme
from storage.planning import TrackedMilestone
from storage.roadmap import InTheWay, MilestoneState, Quarter

WHY_SHOWN = 10  # feedback items under "Why"
IN_THE_WAY_SHOWN = 5  # blockers, and high risks, listed each
SHIPPED_LISTED = 5  # items one person's "shipped" news lists
PREVIEW = 200  # characters of an item's title or text


@dataclass(frozen=True)
class MilestoneFacts:
    """What `/milestone show` tells: the milestone with its blocker and risk counts, its
    state, the theme it delivers, the feedback planned into it (`why`, most +1'd first, of
    `why_total`), what stands in its way, and the scope creep accepted into it (None: not
    known)."""

    tracked: TrackedMilestone
    state: MilestoneState
    theme: Theme | None
    why: Sequence[QueuedItem]
    why_total: int
    in_the_way: InTheWay
    creep: int | None = None


def milestone_view(facts: MilestoneFacts) -> Message:
    """At most 4 + 2 * `WHY_SHOWN` + 1 blocks: well within 50."""
    milestone = facts.tracked.milestone
    name = quoted_name(milestone.name)
    quarter = Quarter.of_theme(facts.theme) if facts.theme else None
    state = state_label(milestone, facts.state, quarter)
    if facts.state is MilestoneState.AT_RISK:
        state = f"{state}: {risk_reason(facts.tracked)}"
    lines = [
        f":triangular_flag_on_post: *{name}* in <#{milestone.team_channel_id}>",
        f"*Due:* {day_label(milestone.due_date)}"
        + (f" · *Owner:* <@{milestone.owner_id}>" if milestone.owner_id else ""),
        f"*State:* {state}",
    ]
    if milestone.freeze_date:
        lines.append(f"*Scope freeze:* {day_label(milestone.freeze_date)}")
    if facts.theme and quarter:
        lines.append(f"*Theme:* {quoted_name(facts.theme.name)} ({quarter})")
    if facts.creep:
        lines.append(f"*Scope creep accepted:* {plural(facts.creep, 'item')}")
    blocks: list[Block] = [section("\n".join(lines))]
    blocks.extend(_why(facts.why, facts.why_total))
    blocks.extend(_in_the_way(facts.in_the_way))
    return Message(
        f"Milestone {name}: due {day_label(milestone.due_date)}, {facts.state}",
        render_blocks(blocks),
    )


def _why(why: Sequence[QueuedItem], total: int) -> list[Block]:
    if not why:
        return [section("*Why*: no feedback is planned into it yet.")]
    blocks: list[Block] = [section(f"*Why*: {plural(total, 'feedback item')} planned into it")]
    for entry in why[:WHY_SHOWN]:
        item = entry.item
        facts = [f"<@{item.reporter_id}>"]
        if entry.votes:
            facts.append(f"+{entry.votes}")
        if item.permalink:
            facts.append(f"<{item.permalink}|source>")
        blocks.extend([section(f"*#{item.id}* {_preview(item)}"), context(" · ".join(facts))])
    hidden = total - min(len(why), WHY_SHOWN)
    if hidden > 0:
        blocks.append(context(f"…and {hidden:,} more: `/feedback list planned`"))
    return blocks


def _in_the_way(found: InTheWay) -> list[Block]:
    parts = []
    for title, items, total in [
        ("Open blockers", found.blockers, found.blocker_total),
        ("Open high risks", found.risks, found.risk_total),
    ]:
        if not total:
            parts.append(f"*{title}*: none.")
            continue
        lines = [f"• *#{i.id}* {_preview(i, 150)} · <@{i.reporter_id}>" for i in items]
        lines = lines[:IN_THE_WAY_SHOWN]
        if total > len(lines):
            lines.append(f"…and {total - len(lines):,} more.")
        parts.append("\n".join([f"*{title}* ({total:,})", *lines]))
    return [section(part) for part in parts]


def shipped_note(milestone: Milestone, items: Sequence[Item], mention: str | None = None) -> str:
    """One person's news that a milestone shipped what they asked for (`items`, of which at
    most `SHIPPED_LISTED` are listed); `mention` names them, in a thread."""
    name = quoted_name(milestone.name)
    who = f"<@{mention}> " if mention else ""
    if len(items) == 1:
        source = f" (<{items[0].permalink}|source>)" if items[0].permalink and not mention else ""
        return f"{who}:rocket: Shipped in *{name}*: {_preview(items[0])}{source}"
    lines = [f"• {_preview(item)}" for item in items[:SHIPPED_LISTED]]
    if len(items) > len(lines):
        lines.append(f"…and {len(items) - len(lines):,} more.")
    heading = (
        f"{who}:rocket: Shipped in *{name}*: {len(items):,} things you asked for in "
        f"<#{milestone.team_channel_id}>"
    )
    return "\n".join([heading, *lines])


def moved_note(
    milestone: Milestone,
    to: date,
    mover: str,
    planned: int,
    theme: Theme | None,
    past_quarter: bool,
) -> str:
    """The product manager's news that a milestone with a why moved from its due date to
    `to`; `past_quarter`: it now lands after its theme's quarter (said once per milestone and
    theme)."""
    name = quoted_name(milestone.name)
    why = f" ({plural(planned, 'feedback item')} planned into it)" if planned else ""
    text = (
        f":calendar: *{name}* in <#{milestone.team_channel_id}> moved from "
        f"{day_label(milestone.due_date)} to {day_label(to)}{why}, by <@{mover}>."
    )
    if theme is not None:
        quarter, theme_name = Quarter.of_theme(theme), quoted_name(theme.name)
        if past_quarter:
            text += f" :warning: It now lands after {quarter}, the quarter of *{theme_name}*."
        else:
            text += f" It delivers *{theme_name}* ({quarter})."
    return text


def _preview(item: Item, limit: int = PREVIEW) -> str:
    return safe_mrkdwn(" ".join((item.title or item.text).split()), limit)[0]
