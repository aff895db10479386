"""What people type to plan: /milestone, /deadline and /digest."""

import re
from dataclasses import dataclass
from datetime import date, time

from bot.parsing.words import (
    DATE,
    MENTION,
    UsageError,
    name,
    name_and_date,
    parse_user,
    parse_zone,
)
from bot.schedule import WEEKDAYS

_CLOCK = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])")

MILESTONE_USAGE = (
    "Usage: `/milestone add &lt;name&gt; &lt;YYYY-MM-DD&gt; [@owner]`, "
    "`/milestone move &lt;name&gt; &lt;YYYY-MM-DD&gt;`, `/milestone done &lt;name&gt;`, "
    "`/milestone list`, `/milestone show &lt;name&gt;`, "
    "`/milestone freeze &lt;name&gt; &lt;YYYY-MM-DD&gt;|off`."
)
DEADLINE_USAGE = (
    "Usage: `/deadline &lt;task&gt; &lt;YYYY-MM-DD&gt; [@assignee]` (you, when nobody is named), "
    "`/deadline list`, `/deadline done &lt;number or task&gt;`."
)
DIGEST_USAGE = (
    "Usage: `/digest` previews this channel's weekly digest (only you see it); `/digest post` "
    "posts it now; `/digest schedule &lt;weekday&gt; &lt;HH:MM&gt; [time zone]` sets when it runs, "
    "e.g. `/digest schedule monday 09:00 Europe/Berlin`."
)


@dataclass(frozen=True)
class ListMilestones:
    pass


@dataclass(frozen=True)
class AddMilestone:
    name: str
    due: date
    owner_id: str | None


@dataclass(frozen=True)
class MoveMilestone:
    name: str
    due: date


@dataclass(frozen=True)
class CloseMilestone:
    name: str


@dataclass(frozen=True)
class ShowMilestone:
    name: str


@dataclass(frozen=True)
class FreezeMilestone:
    """From `day` on, feedback planned into it is scope creep; None: its scope is open."""

    name: str
    day: date | None


MilestoneCommand = (
    ListMilestones | AddMilestone | MoveMilestone | CloseMilestone | ShowMilestone | FreezeMilestone
)


@dataclass(frozen=True)
class ListDeadlines:
    pass


@dataclass(frozen=True)
class AddDeadline:
    task: str
    due: date
    assignee_id: str | None


@dataclass(frozen=True)
class CloseDeadline:
    reference: str


DeadlineCommand = ListDeadlines | AddDeadline | CloseDeadline


@dataclass(frozen=True)
class PreviewDigest:
    pass


@dataclass(frozen=True)
class PostDigest:
    pass


@dataclass(frozen=True)
class ScheduleDigest:
    weekday: int
    wall: time
    timezone: str | None


DigestCommand = PreviewDigest | PostDigest | ScheduleDigest


def parse_milestone_command(text: str) -> MilestoneCommand:
    """`add <name> <date> [@owner]`, `move <name> <date>`, `done <name>`, `list`, `show <name>`.

    Names may hold spaces; the date is the last date-shaped word, the owner a trailing mention.
    """
    words = text.split()
    verb = words[0].lower() if words else "list"
    rest = words[1:]
    if verb == "list" and not rest:
        return ListMilestones()
    if verb == "add":
        owner = parse_user(rest.pop()) if rest and MENTION.fullmatch(rest[-1]) else None
        if any(MENTION.search(word) for word in rest):
            raise UsageError(f"Name one owner, after the date. {MILESTONE_USAGE}")
        milestone, due = name_and_date(rest, MILESTONE_USAGE)
        return AddMilestone(milestone, due, owner)
    if verb == "move":
        return MoveMilestone(*name_and_date(rest, MILESTONE_USAGE))
    if verb == "done" and rest:
        return CloseMilestone(name(rest, MILESTONE_USAGE))
    if verb == "show" and rest:
        return ShowMilestone(name(rest, MILESTONE_USAGE))
    if verb == "freeze" and len(rest) > 1 and rest[-1].lower() == "off":
        return FreezeMilestone(name(rest[:-1], MILESTONE_USAGE), None)
    if verb == "freeze":
        return FreezeMilestone(*name_and_date(rest, MILESTONE_USAGE))
    raise UsageError(MILESTONE_USAGE)


def parse_deadline_command(text: str) -> DeadlineCommand:
    words = text.split()
    if not words or words[0].lower() == "help":
        raise UsageError(DEADLINE_USAGE)
    if [w.lower() for w in words] == ["list"]:
        return ListDeadlines()
    if words[0].lower() == "done" and len(words) > 1 and not any(DATE.fullmatch(w) for w in words):
        return CloseDeadline(name(words[1:], DEADLINE_USAGE).lstrip("#"))
    assignee = parse_user(words.pop()) if MENTION.fullmatch(words[-1]) else None
    task, due = name_and_date(words, DEADLINE_USAGE, limit=1000)
    return AddDeadline(task, due, assignee)


def parse_digest_command(text: str) -> DigestCommand:
    words = text.split()
    if not words or words == ["preview"]:
        return PreviewDigest()
    if [w.lower() for w in words] == ["post"]:
        return PostDigest()
    if words[0].lower() == "schedule" and len(words) in (3, 4):
        day = words[1].lower()
        weekday = next((i for i, name in enumerate(WEEKDAYS) if name.startswith(day)), None)
        clock = _CLOCK.fullmatch(words[2])
        if len(day) < 2 or weekday is None or clock is None:
            raise UsageError(DIGEST_USAGE)
        zone = parse_zone(words[3], DIGEST_USAGE) if len(words) == 4 else None
        return ScheduleDigest(weekday, time(int(clock.group(1)), int(clock.group(2))), zone)
    raise UsageError(DIGEST_USAGE)
