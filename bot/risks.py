"""Risks: whose a risk is when its filer does not say, and when a risk counts as high.

A market risk (demand, competitors, pricing, customers) is the product manager's; an
operational risk (people, vendors, infrastructure, dates) the project manager's. When the filer
does not pick the kind, a keyword rule picks it, simple enough to explain on the card:

- the words below, matched whole and ignoring case (`price` is not found in `priceless`);
- Slack markup (`<@U…|name>`, `<https://…>`, `<#C…|channel>`) is skipped: a link or a name
  decides nothing;
- the keyword that comes first in the text decides;
- no keyword: an operational risk (the project manager triages what nobody can place).

Nothing about the pick is stored: the card derives it again from the text (`how_picked`).
"""

import re
from dataclasses import dataclass

from storage.models import Item, ItemKind, Level

MARKET_WORDS = (
    "demand",
    "competitor",
    "competitors",
    "competition",
    "pricing",
    "price",
    "prices",
    "churn",
    "customer",
    "customers",
    "market",
    "markets",
    "sales",
    "revenue",
    "deal",
    "deals",
    "segment",
    "segments",
    "adoption",
    "positioning",
)
OPERATIONAL_WORDS = (
    "vendor",
    "vendors",
    "supplier",
    "suppliers",
    "hire",
    "hires",
    "hiring",
    "staff",
    "staffing",
    "people",
    "leave",
    "sick",
    "infrastructure",
    "outage",
    "outages",
    "server",
    "servers",
    "cloud",
    "deadline",
    "deadlines",
    "date",
    "dates",
    "delay",
    "delays",
    "delayed",
    "dependency",
    "dependencies",
    "capacity",
)
DEFAULT_KIND = ItemKind.OPERATIONAL_RISK

_KIND_OF_WORD = {
    **{word: ItemKind.MARKET_RISK for word in MARKET_WORDS},
    **{word: ItemKind.OPERATIONAL_RISK for word in OPERATIONAL_WORDS},
}
_KEYWORD = re.compile(
    r"\b(" + "|".join(sorted(_KIND_OF_WORD, key=len, reverse=True)) + r")\b", re.IGNORECASE
)
_MARKUP = re.compile(r"<[^<>]*>")

# A high risk: high impact, and at least medium likelihood. Another part of Rolecall applies the
# same rule in SQL (open high risks put the milestone they threaten at risk): keep them equal.
HIGH_IMPACT = Level.HIGH
HIGH_LIKELIHOODS = (Level.MEDIUM, Level.HIGH)


@dataclass(frozen=True)
class KindGuess:
    """The kind the keyword rule picks, and the keyword that decided (None: no keyword)."""

    kind: ItemKind
    keyword: str | None


def guess_kind(text: str) -> KindGuess:
    """The kind of risk the text reads as: the first keyword in it decides."""
    found = _KEYWORD.search(_MARKUP.sub(" ", text))
    if found is None:
        return KindGuess(DEFAULT_KIND, None)
    keyword = found.group(1).lower()
    return KindGuess(_KIND_OF_WORD[keyword], keyword)


def risk_text(title: str | None, text: str) -> str:
    """What the rule reads: the title (a modal's) before the text, as the card shows them."""
    return f"{title} {text}" if title else text


def how_picked(item: Item) -> KindGuess | None:
    """How a risk's kind was picked, when the rule picked it: the rule's guess from its text,
    if that is its kind and it was never moved. None when its filer picked another kind, or
    someone moved it since (a filer who picked the kind the rule would have picked is shown
    the rule's reason too: nothing records the difference)."""
    if not item.kind.is_risk or item.moved_from is not None:
        return None
    guess = guess_kind(risk_text(item.title, item.text))
    return guess if guess.kind is item.kind else None


def is_high(item: Item) -> bool:
    """A high risk: impact HIGH and likelihood MEDIUM or HIGH (see `HIGH_IMPACT`)."""
    return item.impact is HIGH_IMPACT and item.likelihood in HIGH_LIKELIHOODS
