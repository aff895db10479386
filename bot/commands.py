"""Parsing what people type: slash command text, `feedback:` messages, mentions.

Every parser returns a typed command or raises UsageError carrying the reply to show, so bad input
always becomes a usage message and never an exception that reaches Slack as a 500.
"""

import re
from dataclasses import dataclass
from datetime import date, time

from bot.schedule import WEEKDAYS, is_zone
from bot.text import safe_mrkdwn
from storage.models import ItemKind, Role

_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^<>]*)?>")
_CHANNEL = re.compile(r"<#(C[A-Z0-9]+|G[A-Z0-9]+)(?:\|[^<>]*)?>")
_CAPTURE = re.compile(r"^\s*(feedback|blocker)\s*:\s*(.*\S)\s*$", re.IGNORECASE | re.DOTALL)
_MENTION_CAPTURE = re.compile(r"^\s*(feedback|blocker)\b\s*:?\s*(.*\S)\s*$", re.I | re.S)
_EMOJI = re.compile(r":?([a-z0-9_+'-]+(?:::skin-tone-[2-6])?):?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CLOCK = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")
MAX_NAME = 150

ROLE_USAGE = (
    "Usage: `/role` lists this channel's roles. `/role @person product` or "
    "`/role @person project` assigns one; `/role remove @person product|project` removes it."
)
SETTINGS_USAGE = (
    "Usage: `/rolecall settings` shows this channel's settings. "
    "`/rolecall emoji feedback|blocker :emoji:` sets the routing reaction. "
    "`/rolecall queue product|project #channel` posts that role's cards to a channel "
    "(`off` goes back to DMs). `/rolecall timezone Europe/Berlin` sets the team's time zone; "
    "`/rolecall escalation 24` escalates blockers not acknowledged within that many working hours."
)
MILESTONE_USAGE = (
    "Usage: `/milestone add &lt;name&gt; &lt;YYYY-MM-DD&gt; [@owner]`, "
    "`/milestone move &lt;name&gt; &lt;YYYY-MM-DD&gt;`, `/milestone done &lt;name&gt;`, "
    "`/milestone list`."
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


def item_usage(kind: ItemKind) -> str:
    role = kind.owner_role.value
    return (
        f"Usage: `/{kind.value} &lt;text&gt;` files it in this channel's {role} manager's queue; "
        f"`/{kind.value} list` shows the open ones."
    )


class UsageError(ValueError):
    """Input we cannot act on; the message is the reply to show the person."""


@dataclass(frozen=True)
class ListRoles:
    pass


@dataclass(frozen=True)
class AssignRole:
    user_id: str
    role: Role


@dataclass(frozen=True)
class RemoveRole:
    user_id: str
    role: Role


RoleCommand = ListRoles | AssignRole | RemoveRole


@dataclass(frozen=True)
class ListItems:
    kind: ItemKind


@dataclass(frozen=True)
class FileItem:
    kind: ItemKind
    text: str


ItemCommand = ListItems | FileItem


@dataclass(frozen=True)
class ShowSettings:
    pass


@dataclass(frozen=True)
class SetEmoji:
    kind: ItemKind
    emoji: str


@dataclass(frozen=True)
class SetQueueChannel:
    role: Role
    channel_id: str | None


@dataclass(frozen=True)
class SetTimezone:
    timezone: str


@dataclass(frozen=True)
class SetEscalation:
    hours: int


SettingsCommand = ShowSettings | SetEmoji | SetQueueChannel | SetTimezone | SetEscalation


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


MilestoneCommand = ListMilestones | AddMilestone | MoveMilestone | CloseMilestone


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


def parse_role_command(text: str) -> RoleCommand:
    words = text.split()
    if not words or words == ["list"]:
        return ListRoles()
    remove = words[0].lower() == "remove"
    if remove:
        words = words[1:]
    if len(words) != 2:
        raise UsageError(ROLE_USAGE)
    user_id = parse_user(words[0])
    role = _parse_role(words[1])
    return RemoveRole(user_id, role) if remove else AssignRole(user_id, role)


def parse_item_command(kind: ItemKind, text: str) -> ItemCommand:
    stripped = text.strip()
    if not stripped or stripped.lower() == "help":
        raise UsageError(item_usage(kind))
    if stripped.lower() == "list":
        return ListItems(kind)
    return FileItem(kind, stripped)


def parse_settings_command(text: str) -> SettingsCommand:
    words = text.split()
    if not words or words == ["settings"]:
        return ShowSettings()
    if len(words) == 3 and words[0].lower() == "emoji":
        kind = _parse_kind(words[1])
        emoji = _EMOJI.fullmatch(words[2].lower())
        if emoji is None:
            raise UsageError(SETTINGS_USAGE)
        return SetEmoji(kind, emoji.group(1))
    if len(words) == 3 and words[0].lower() == "queue":
        role = _parse_role(words[1])
        if words[2].lower() == "off":
            return SetQueueChannel(role, None)
        channel = _CHANNEL.fullmatch(words[2])
        if channel is None:
            raise UsageError(SETTINGS_USAGE)
        return SetQueueChannel(role, channel.group(1))
    if len(words) == 2 and words[0].lower() == "timezone":
        return SetTimezone(_parse_zone(words[1], SETTINGS_USAGE))
    if len(words) == 2 and words[0].lower() == "escalation":
        if not words[1].isdigit() or not 1 <= int(words[1]) <= 720:
            raise UsageError("Escalation takes a number of working hours from 1 to 720.")
        return SetEscalation(int(words[1]))
    raise UsageError(SETTINGS_USAGE)


def parse_milestone_command(text: str) -> MilestoneCommand:
    """`add <name> <date> [@owner]`, `move <name> <date>`, `done <name>`, `list`.

    Names may hold spaces; the date is the last date-shaped word, the owner a trailing mention.
    """
    words = text.split()
    verb = words[0].lower() if words else "list"
    rest = words[1:]
    if verb == "list" and not rest:
        return ListMilestones()
    if verb == "add":
        owner = parse_user(rest.pop()) if rest and _MENTION.fullmatch(rest[-1]) else None
        if any(_MENTION.search(word) for word in rest):
            raise UsageError(f"Name one owner, after the date. {MILESTONE_USAGE}")
        name, due = _name_and_date(rest, MILESTONE_USAGE)
        return AddMilestone(name, due, owner)
    if verb == "move":
        return MoveMilestone(*_name_and_date(rest, MILESTONE_USAGE))
    if verb == "done" and rest:
        return CloseMilestone(_name(rest, MILESTONE_USAGE))
    raise UsageError(MILESTONE_USAGE)


def parse_deadline_command(text: str) -> DeadlineCommand:
    words = text.split()
    if not words or words[0].lower() == "help":
        raise UsageError(DEADLINE_USAGE)
    if [w.lower() for w in words] == ["list"]:
        return ListDeadlines()
    if words[0].lower() == "done" and len(words) > 1 and not any(_DATE.fullmatch(w) for w in words):
        return CloseDeadline(_name(words[1:], DEADLINE_USAGE).lstrip("#"))
    assignee = parse_user(words.pop()) if _MENTION.fullmatch(words[-1]) else None
    task, due = _name_and_date(words, DEADLINE_USAGE, limit=1000)
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
        zone = _parse_zone(words[3], DIGEST_USAGE) if len(words) == 4 else None
        return ScheduleDigest(weekday, time(int(clock.group(1)), int(clock.group(2))), zone)
    raise UsageError(DIGEST_USAGE)


def name_key(name: str) -> str:
    """Names match case-insensitively and whatever the spacing."""
    return " ".join(name.split()).casefold()


def parse_capture(text: str, *, keyword_colon_required: bool = True) -> FileItem | None:
    """`feedback: …` / `blocker: …` in a message; None when the message is not one."""
    pattern = _CAPTURE if keyword_colon_required else _MENTION_CAPTURE
    match = pattern.match(text)
    if match is None:
        return None
    return FileItem(ItemKind(match.group(1).lower()), match.group(2))


def strip_leading_mention(text: str, user_id: str) -> str:
    """Drop the bot's own mention that starts an app_mention's text."""
    return re.sub(rf"^\s*<@{re.escape(user_id)}(?:\|[^<>]*)?>\s*", "", text)


def parse_user(word: str) -> str:
    match = _MENTION.fullmatch(word)
    if match is None:
        raise UsageError(f"I could not find a person in `{_echo(word)}`. {ROLE_USAGE}")
    return match.group(1)


def normalise_emoji(name: str) -> str:
    """Reaction names carry skin tones (`+1::skin-tone-3`); routing ignores them."""
    return name.split("::", 1)[0]


def _name_and_date(words: list[str], usage: str, limit: int = MAX_NAME) -> tuple[str, date]:
    dates = [i for i, word in enumerate(words) if _DATE.fullmatch(word)]
    if not dates:
        raise UsageError(usage)
    at = dates[-1]
    return _name(words[:at] + words[at + 1 :], usage, limit), parse_date(words[at])


def _name(words: list[str], usage: str, limit: int = MAX_NAME) -> str:
    name = " ".join(words)
    if not name:
        raise UsageError(usage)
    if len(name) > limit:
        raise UsageError(f"That name is too long: keep it under {limit} characters.")
    return name


def parse_date(word: str) -> date:
    try:
        return date.fromisoformat(word)
    except ValueError:
        raise UsageError(
            f"`{_echo(word)}` is not a date on the calendar: use YYYY-MM-DD."
        ) from None


def _parse_zone(word: str, usage: str) -> str:
    if not is_zone(word):
        raise UsageError(
            f"`{_echo(word)}` is not a time zone I know, e.g. `Europe/Berlin`. {usage}"
        )
    return word


def _parse_role(word: str) -> Role:
    try:
        return Role(word.lower())
    except ValueError:
        raise UsageError(f"`{_echo(word)}` is not a role: use `product` or `project`.") from None


def _parse_kind(word: str) -> ItemKind:
    try:
        return ItemKind(word.lower())
    except ValueError:
        raise UsageError(SETTINGS_USAGE) from None


def _echo(word: str) -> str:
    """Quote a word back to its author without letting it format or ping."""
    return safe_mrkdwn(word, 80)[0]
