"""The pieces every command is made of: people, dates, names, roles, time zones.

Every parser returns a typed value or raises UsageError carrying the reply to show, so bad input
always becomes a usage message and never an exception that reaches Slack as a 500.
"""

import re
from datetime import date

from bot.mrkdwn import safe_mrkdwn
from bot.schedule import is_zone
from storage.models import Role

MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^<>]*)?>")
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
MAX_NAME = 150
ROW_ID = re.compile(r"[0-9]{1,18}")  # ASCII digits only, so always within a 64-bit integer

ROLE_USAGE = (
    "Usage: `/role` lists this channel's roles. `/role @person product` or "
    "`/role @person project` assigns one; `/role remove @person product|project` removes it."
)


class UsageError(ValueError):
    """Input we cannot act on; the message is the reply to show the person."""


def parse_user(word: str) -> str:
    match = MENTION.fullmatch(word)
    if match is None:
        raise UsageError(f"I could not find a person in `{echo(word)}`. {ROLE_USAGE}")
    return match.group(1)


def parse_role(word: str) -> Role:
    try:
        return Role(word.lower())
    except ValueError:
        raise UsageError(f"`{echo(word)}` is not a role: use `product` or `project`.") from None


def parse_date(word: str) -> date:
    try:
        return date.fromisoformat(word)
    except ValueError:
        raise UsageError(f"`{echo(word)}` is not a date on the calendar: use YYYY-MM-DD.") from None


def parse_zone(word: str, usage: str) -> str:
    if not is_zone(word):
        raise UsageError(f"`{echo(word)}` is not a time zone I know, e.g. `Europe/Berlin`. {usage}")
    return word


def name_and_date(words: list[str], usage: str, limit: int = MAX_NAME) -> tuple[str, date]:
    """A name of several words and the last date-shaped word among them."""
    dates = [i for i, word in enumerate(words) if DATE.fullmatch(word)]
    if not dates:
        raise UsageError(usage)
    at = dates[-1]
    return name(words[:at] + words[at + 1 :], usage, limit), parse_date(words[at])


def name(words: list[str], usage: str, limit: int = MAX_NAME) -> str:
    joined = " ".join(words)
    if not joined:
        raise UsageError(usage)
    if max(len(joined), len(name_key(joined))) > limit:  # casefolding may lengthen ("ß" → "ss")
        raise UsageError(f"That name is too long: keep it under {limit} characters.")
    return joined


def name_key(text: str) -> str:
    """Names match case-insensitively and whatever the spacing."""
    return " ".join(text.split()).casefold()


def parse_row_id(value: object) -> int | None:
    """A row id as a button of ours carries it; None for anything else (a tampered payload)."""
    if isinstance(value, str) and ROW_ID.fullmatch(value):
        return int(value)
    return None


def echo(word: str) -> str:
    """Quote a word back to its author without letting it format or ping."""
    return safe_mrkdwn(word, 80)[0]


TAG_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,29}")  # a tag as stored: lowercase, no `#`
TAG = re.compile(rf"(?<![\w<&])#({TAG_NAME.pattern})", re.IGNORECASE)


def tags_in(text: str) -> str:
    """The #tags a text carries, as stored: lowercased, sorted, space-padded (" a b "), so a
    tag is found with `LIKE '% tag %'`; "" when it has none. Channel links (`<#C…|name>`) and
    entities (`&#39;`) are not tags."""
    found = sorted({tag.lower() for tag in TAG.findall(text)})[:10]
    return f" {' '.join(found)} " if found else ""
