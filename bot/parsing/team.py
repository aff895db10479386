"""What people type to run a team: /role, /feedback, /blocker, /rolecall, and capture messages."""

import re
from dataclasses import dataclass

from bot.mrkdwn import unescape
from bot.parsing.words import (
    ROLE_USAGE,
    TAG_NAME,
    UsageError,
    echo,
    parse_role,
    parse_row_id,
    parse_user,
    parse_zone,
)
from bot.parsing.working_time import (
    AddHoliday,
    AwayCommand,
    ListHolidays,
    RemoveHoliday,
    SetHolidayRegion,
    SetWorkWeek,
    ShowHolidayRegion,
    ShowWorkWeek,
    parse_away,
    parse_holiday_command,
    parse_workweek,
)
from bot.webhooks import WebhookEvent, parse_events
from storage.models import (
    RISK_KINDS,
    EscalationDelivery,
    ItemKind,
    ItemStatus,
    QuietWeek,
    Role,
)

_CHANNEL = re.compile(r"<#(C[A-Z0-9]+|G[A-Z0-9]+)(?:\|[^<>]*)?>")
_CAPTURE = re.compile(r"^\s*(feedback|blocker)\s*:\s*(.*\S)\s*$", re.IGNORECASE | re.DOTALL)
_MENTION_CAPTURE = re.compile(r"^\s*(feedback|blocker)\b\s*:?\s*(.*\S)\s*$", re.I | re.S)
_EMOJI = re.compile(r":?([a-z0-9_+'-]{1,100})(?:::skin-tone-[2-6])?:?")
_LINK = re.compile(r"<([^<>|]+)(?:\|[^<>]*)?>")  # Slack's `<https://…>` or `<https://…|label>`
QUIET_WEEK = {"skip": QuietWeek.SKIP, "post": QuietWeek.LINE}

SETTINGS_USAGE = (
    "Usage: `/rolecall settings` shows this channel's settings. "
    "`/rolecall emoji feedback|blocker :emoji:` sets the routing reaction. "
    "`/rolecall queue product|project #channel` posts that role's cards to a channel "
    "(`off` goes back to DMs). `/rolecall timezone Europe/Berlin` sets the team's time zone; "
    "`/rolecall escalation 24` escalates blockers not acknowledged within that many working hours; "
    "`/rolecall escalate dm|channel` sends escalations as one DM each or one channel post. "
    "`/rolecall workweek mon-fri 09:00-17:00` sets working days and hours; "
    "`/rolecall holiday add|list|remove` and `/rolecall holidays DE-BY|off` set days off. "
    "`/rolecall quiet-week skip|post`: no digest, or one line, for a week with nothing to report. "
    "`/rolecall away 2026-12-21 2027-01-03` pauses your own reminders. "
    "`/rolecall webhook` sends the team's events to other tools."
)
WEBHOOK_USAGE = (
    "Usage: `/rolecall webhook add https://example.com/hook [events]` sends this team's events "
    "there, signed (events: `item.filed`, `item.status_changed`, `milestone.done`, `risk.filed`; "
    "all of them by default). `/rolecall webhook list` shows the team's webhooks; "
    "`/rolecall webhook remove 3` deletes one."
)


# What `/feedback list …` and `/blocker list …` (and `export`) may show: a filter's statuses.
LIST_FILTERS: dict[ItemKind, dict[str, tuple[ItemStatus, ...]]] = {
    ItemKind.FEEDBACK: {
        "open": (ItemStatus.OPEN, ItemStatus.NEEDS_INFO),  # not snoozed: out of the queue
        "snoozed": (ItemStatus.SNOOZED,),
        "needs-info": (ItemStatus.NEEDS_INFO,),
        "planned": (ItemStatus.PLANNED,),
        "declined": (ItemStatus.DECLINED,),
        "duplicate": (ItemStatus.DUPLICATE,),
        "all": tuple(ItemStatus),
    },
    ItemKind.BLOCKER: {
        "open": (ItemStatus.OPEN, ItemStatus.ACKNOWLEDGED),
        "acknowledged": (ItemStatus.ACKNOWLEDGED,),
        "resolved": (ItemStatus.RESOLVED,),
        "all": tuple(ItemStatus),
    },
    **{
        kind: {
            "open": (ItemStatus.OPEN, ItemStatus.MITIGATING),
            "mitigating": (ItemStatus.MITIGATING,),
            "accepted": (ItemStatus.ACCEPTED,),
            "closed": (ItemStatus.CLOSED,),
            "all": tuple(ItemStatus),
        }
        for kind in RISK_KINDS
    },
}
DEFAULT_FILTER = "open"
MAX_SEARCH = 100  # characters of text a list searches for


def filter_names(kind: ItemKind) -> str:
    return "|".join(LIST_FILTERS[kind])


def list_usage(kind: ItemKind) -> str:
    return (
        f"`/{kind.value} list [{filter_names(kind)}] [#tag] [text]` shows this channel's "
        f"{kind.value} items (default `open`); `/{kind.value} export …` with the same filters "
        "sends them to you as a CSV file."
    )


def item_usage(kind: ItemKind) -> str:
    role = kind.owner_role.value
    return (
        f"Usage: `/{kind.value} &lt;text&gt;` files it in this channel's {role} manager's queue; "
        f"{list_usage(kind)}"
    )


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
class ItemFilter:
    """Which of a team's items: a kind, a filter (`open`, `planned`, `all`…: see
    `LIST_FILTERS`), and optionally a #tag (lowercase, without `#`) and text to find."""

    kind: ItemKind
    filter: str = DEFAULT_FILTER
    tag: str | None = None
    words: str | None = None

    @property
    def statuses(self) -> tuple[ItemStatus, ...]:
        return LIST_FILTERS[self.kind][self.filter]


@dataclass(frozen=True)
class ListItems(ItemFilter):
    """`/feedback list …`: a page of the team's items, only to the person who asked."""


@dataclass(frozen=True)
class ExportItems(ItemFilter):
    """`/feedback export …`: every matching item, as a CSV file in the person's DM."""


@dataclass(frozen=True)
class FileItem:
    kind: ItemKind
    text: str


ItemCommand = ListItems | ExportItems | FileItem


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


@dataclass(frozen=True)
class SetEscalationDelivery:
    delivery: EscalationDelivery


@dataclass(frozen=True)
class SetQuietWeek:
    choice: QuietWeek


SettingsCommand = (
    ShowSettings
    | SetEmoji
    | SetQueueChannel
    | SetTimezone
    | SetEscalation
    | ShowWorkWeek
    | SetWorkWeek
    | ListHolidays
    | AddHoliday
    | RemoveHoliday
    | ShowHolidayRegion
    | SetHolidayRegion
    | SetEscalationDelivery
    | SetQuietWeek
    | AwayCommand
)


@dataclass(frozen=True)
class AddWebhook:
    url: str  # as typed, unwrapped from Slack's link markup; checked when it is added
    events: frozenset[WebhookEvent]


@dataclass(frozen=True)
class ListWebhooks:
    pass


@dataclass(frozen=True)
class RemoveWebhook:
    endpoint_id: int


WebhookCommand = AddWebhook | ListWebhooks | RemoveWebhook


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
    role = parse_role(words[1])
    return RemoveRole(user_id, role) if remove else AssignRole(user_id, role)


def parse_item_command(kind: ItemKind, text: str) -> ItemCommand:
    stripped = text.strip()
    if not stripped or stripped.lower() == "help":
        raise UsageError(item_usage(kind))
    first, _, rest = stripped.partition(" ")
    if first.lower() == "list":
        return ListItems(*parse_item_filter(kind, rest))
    if first.lower() == "export":
        filtered = parse_item_filter(kind, rest)
        if filtered[3] is None:  # "export to PDF, please" is feedback, not an export
            return ExportItems(*filtered)
    return FileItem(kind, stripped)


def parse_item_filter(kind: ItemKind, text: str) -> tuple[ItemKind, str, str | None, str | None]:
    """`[filter] [#tag] [text…]` after `list` or `export`: (kind, filter, tag, words). The
    filter comes first; one #tag may stand anywhere; the other words are text to find."""
    words = text.split()
    name = DEFAULT_FILTER
    if words:
        wanted = words[0].lower().replace("_", "-")
        if wanted in LIST_FILTERS[kind]:
            name = wanted
            words = words[1:]
        elif any(wanted in filters for filters in LIST_FILTERS.values()):
            raise UsageError(
                f"`{echo(words[0])}` is not a {kind.value} filter: use "
                f"{', '.join(f'`{f}`' for f in LIST_FILTERS[kind])}. Usage: {list_usage(kind)}"
            )
    tags = [word for word in words if word.startswith("#")]
    if len(tags) > 1:
        raise UsageError(f"One #tag at a time, please. Usage: {list_usage(kind)}")
    tag = None
    if tags:
        if TAG_NAME.fullmatch(tags[0][1:].lower()) is None:  # as `tags_in` reads tags
            raise UsageError(
                f"`{echo(tags[0])}` is not a tag: tags are letters, digits, `-` and `_` after "
                f"`#`, like `#pricing`. Usage: {list_usage(kind)}"
            )
        tag = tags[0][1:].lower()
        words = [word for word in words if word != tags[0]]
    found = " ".join(words) or None
    if found is not None and len(found) > MAX_SEARCH:
        raise UsageError(f"Search for at most {MAX_SEARCH} characters of text.")
    return kind, name, tag, found


def parse_rolecall_command(text: str) -> SettingsCommand | WebhookCommand:
    words = text.split()
    if words and words[0].lower() == "webhook":
        return parse_webhook_command(words[1:])
    return parse_settings_command(text)


def parse_webhook_command(words: list[str]) -> WebhookCommand:
    """`/rolecall webhook add <url> [events]`, `list` (also with no words), `remove <id>`."""
    action = words[0].lower() if words else "list"
    if action == "list" and len(words) <= 1:
        return ListWebhooks()
    if action == "remove" and len(words) == 2:
        endpoint_id = parse_row_id(words[1])
        if endpoint_id is None:
            raise UsageError("Name the webhook by its number: `/rolecall webhook list` shows it.")
        return RemoveWebhook(endpoint_id)
    if action == "add" and len(words) >= 2:
        try:
            events = parse_events(words[2:])
        except ValueError as unknown:
            raise UsageError(str(unknown)) from None
        return AddWebhook(webhook_url(words[1]), frozenset(events))
    raise UsageError(WEBHOOK_USAGE)


def webhook_url(word: str) -> str:
    """The URL in a word of a command: Slack sends a typed URL as `<https://…>` (or with a
    `|label`), with `&` escaped as `&amp;`."""
    link = _LINK.fullmatch(word)
    return unescape(link.group(1) if link else word)


def parse_settings_command(text: str) -> SettingsCommand:
    words = text.split()
    if not words or words == ["settings"]:
        return ShowSettings()
    first = words[0].lower().replace("_", "-")
    if first in ("workweek", "work-week"):
        return parse_workweek(text.strip()[len(words[0]) :])
    if first in ("holiday", "holidays"):
        return parse_holiday_command(first, text)
    if first == "away":
        return parse_away(words[1:])
    if first == "escalate":
        delivery = words[1].lower() if len(words) == 2 else ""
        if delivery not in set(EscalationDelivery):
            raise UsageError(
                "Usage: `/rolecall escalate dm` sends each project manager an escalation by DM; "
                "`/rolecall escalate channel` posts it once in the team channel, mentioning them."
            )
        return SetEscalationDelivery(EscalationDelivery(delivery))
    if first == "quiet-week":
        choice = words[1].lower() if len(words) == 2 else ""
        if choice not in QUIET_WEEK:
            raise UsageError(
                "Usage: `/rolecall quiet-week skip` sends no digest for a week with nothing new "
                "and nothing open; `/rolecall quiet-week post` sends one line instead."
            )
        return SetQuietWeek(QUIET_WEEK[choice])
    if len(words) == 3 and words[0].lower() == "emoji":
        kind = _parse_kind(words[1])
        emoji = _EMOJI.fullmatch(words[2].lower())
        if emoji is None:
            raise UsageError(SETTINGS_USAGE)
        return SetEmoji(kind, emoji.group(1))
    if len(words) == 3 and words[0].lower() == "queue":
        role = parse_role(words[1])
        if words[2].lower() == "off":
            return SetQueueChannel(role, None)
        channel = _CHANNEL.fullmatch(words[2])
        if channel is None:
            raise UsageError(SETTINGS_USAGE)
        return SetQueueChannel(role, channel.group(1))
    if len(words) == 2 and words[0].lower() == "timezone":
        return SetTimezone(parse_zone(words[1], SETTINGS_USAGE))
    if len(words) == 2 and words[0].lower() == "escalation":
        if not (words[1].isascii() and words[1].isdigit()) or not 1 <= int(words[1]) <= 720:
            raise UsageError("Escalation takes a number of working hours from 1 to 720.")
        return SetEscalation(int(words[1]))
    raise UsageError(SETTINGS_USAGE)


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


def normalise_emoji(name: str) -> str:
    """Reaction names carry skin tones (`+1::skin-tone-3`); routing ignores them."""
    return name.split("::", 1)[0]


def _parse_kind(word: str) -> ItemKind:
    try:
        return ItemKind(word.lower())
    except ValueError:
        raise UsageError(SETTINGS_USAGE) from None
