"""What every message shares: the Message value, labels, limits and small text helpers.

Builders use slack_sdk's Block Kit models, which check Slack's limits when serialised, so a
builder that would produce `invalid_blocks` fails in the unit tests instead of in a workspace.
"""

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from bot.mrkdwn import escape, safe_mrkdwn
from storage.models import ItemKind, ItemStatus, Role

SECTION_LIMIT = 3000
MESSAGE_BLOCKS = 50
FALLBACK_PREVIEW = 300
NAME_LIMIT = 150

KIND_LABEL = {
    ItemKind.FEEDBACK: ":bulb: Feedback",
    ItemKind.BLOCKER: ":no_entry: Blocker",
    ItemKind.MARKET_RISK: ":chart_with_downwards_trend: Market risk",
    ItemKind.OPERATIONAL_RISK: ":warning: Operational risk",
}
ROLE_LABEL = {Role.PRODUCT: "product manager", Role.PROJECT: "project manager"}
STATUS_LABEL = {
    ItemStatus.OPEN: "Open",
    ItemStatus.ACKNOWLEDGED: "Acknowledged",
    ItemStatus.RESOLVED: "Resolved",
    ItemStatus.PLANNED: "Planned",
    ItemStatus.DECLINED: "Declined",
    ItemStatus.DUPLICATE: "Marked duplicate",
    ItemStatus.NEEDS_INFO: "Needs info",
    ItemStatus.SNOOZED: "Snoozed",
    ItemStatus.MITIGATING: "Mitigating",
    ItemStatus.ACCEPTED: "Accepted",
    ItemStatus.CLOSED: "Closed",
}


@dataclass(frozen=True)
class Message:
    """A message body: mrkdwn fallback text plus blocks."""

    text: str
    blocks: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}

    @classmethod
    def from_dict(cls, stored: dict[str, Any]) -> "Message":
        return cls(str(stored.get("text", "")), list(stored.get("blocks") or []))


def render_blocks(blocks: Sequence[Block]) -> list[dict[str, Any]]:
    return [block.to_dict() for block in blocks]


def section(text: str, block_id: str | None = None) -> SectionBlock:
    return SectionBlock(block_id=block_id, text=MarkdownTextObject(text=text))


def context(text: str, block_id: str | None = None) -> ContextBlock:
    return ContextBlock(block_id=block_id, elements=[MarkdownTextObject(text=text)])


def day_label(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def quoted_name(text: str, limit: int = NAME_LIMIT) -> str:
    """User text (a milestone name, a task) as safe mrkdwn of at most `limit` characters."""
    return safe_mrkdwn(text, limit)[0]


Person = Callable[[str], str]  # how a message writes a person: a mention, or their name
SOMEONE = "someone"  # a person Slack gave no name for
PERSON_NAME_LIMIT = 80
USER_MENTION = re.compile(r"<@([UW][A-Z0-9]+)>")  # as `safe_mrkdwn` keeps a mention
# Formatting characters in a name would bold or strike the text around it: lookalikes instead.
_NAME_MARKUP = str.maketrans(
    {
        "*": "\N{ASTERISK OPERATOR}",
        "_": "\N{MODIFIER LETTER LOW MACRON}",
        "~": "\N{TILDE OPERATOR}",
        "`": "\N{MODIFIER LETTER GRAVE ACCENT}",
    }
)


def mention(user_id: str) -> str:
    """A person as a mention, which notifies them: for DMs, App Home and replies to them."""
    return f"<@{user_id}>"


def mentions(users: Sequence[str]) -> str:
    return ", ".join(mention(user) for user in users)


@dataclass(frozen=True)
class Names:
    """People written by their Slack names (user id to name), for messages that name people
    without notifying them: a mention in a channel post pings. A person with no name here
    reads "someone"."""

    known: Mapping[str, str] = field(default_factory=dict)

    def __call__(self, user_id: str | None) -> str:
        name = " ".join(self.known.get(user_id or "", "").split())
        if not name:
            return SOMEONE
        return safe_mrkdwn(escape(name.translate(_NAME_MARKUP)), PERSON_NAME_LIMIT)[0]

    def text(self, mrkdwn: str) -> str:
        """Safe mrkdwn with each mention in it (one a person typed, kept by `safe_mrkdwn`)
        written as that person's name."""
        return USER_MENTION.sub(lambda match: self(match.group(1)), mrkdwn)


def plural(count: int, word: str) -> str:
    """ "1 item", "80,000 items": counts read as people write them."""
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def capped(lines: Sequence[str], limit: int) -> list[str]:
    """The first `limit` lines, and how many more there are."""
    hidden = len(lines) - limit
    return [*lines[:limit], f"…and {hidden} more."] if hidden > 0 else list(lines)
