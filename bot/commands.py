"""Parsing what people type: slash command text, `feedback:` messages, mentions.

Every parser returns a typed command or raises UsageError carrying the reply to show, so bad input
always becomes a usage message and never an exception that reaches Slack as a 500.
"""

import re
from dataclasses import dataclass

from bot.text import safe_mrkdwn
from storage.models import ItemKind, Role

_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^<>]*)?>")
_CHANNEL = re.compile(r"<#(C[A-Z0-9]+|G[A-Z0-9]+)(?:\|[^<>]*)?>")
_CAPTURE = re.compile(r"^\s*(feedback|blocker)\s*:\s*(.*\S)\s*$", re.IGNORECASE | re.DOTALL)
_MENTION_CAPTURE = re.compile(r"^\s*(feedback|blocker)\b\s*:?\s*(.*\S)\s*$", re.I | re.S)
_EMOJI = re.compile(r":?([a-z0-9_+'-]+(?:::skin-tone-[2-6])?):?")

ROLE_USAGE = (
    "Usage: `/role` lists this channel's roles. `/role @person product` or "
    "`/role @person project` assigns one; `/role remove @person product|project` removes it."
)
SETTINGS_USAGE = (
    "Usage: `/rolecall settings` shows this channel's settings. "
    "`/rolecall emoji feedback|blocker :emoji:` sets the routing reaction. "
    "`/rolecall queue product|project #channel` posts that role's cards to a channel "
    "(`off` goes back to DMs)."
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


SettingsCommand = ShowSettings | SetEmoji | SetQueueChannel


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


def parse_user(word: str) -> str:
    match = _MENTION.fullmatch(word)
    if match is None:
        raise UsageError(f"I could not find a person in `{_echo(word)}`. {ROLE_USAGE}")
    return match.group(1)


def normalise_emoji(name: str) -> str:
    """Reaction names carry skin tones (`+1::skin-tone-3`); routing ignores them."""
    return name.split("::", 1)[0]


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
