"""What people type after `/risk`: a risk to file (of a kind they pick, or one the keyword rule
picks), or a list of the team's risks."""

from dataclasses import dataclass

from bot.parsing.team import DEFAULT_FILTER, LIST_FILTERS
from bot.parsing.words import UsageError, echo
from bot.risks import guess_kind
from storage.models import ItemKind

KIND_WORDS = {"market": ItemKind.MARKET_RISK, "operational": ItemKind.OPERATIONAL_RISK}
FILTERS = tuple(LIST_FILTERS[ItemKind.MARKET_RISK])  # the same for both kinds of risk
RISK_USAGE = (
    "Usage: `/risk [market|operational] &lt;text&gt; [#Milestone name]` files a risk: a market "
    "risk goes to this channel's product manager, an operational one to its project manager. "
    "Leave the kind out and I pick it from the first keyword in the text (market: demand, "
    "competitors, pricing, churn, customers, sales…; operational: vendors, hiring, staff, "
    "outages, servers, deadlines, delays, dependencies…; none: operational). A milestone's "
    f"name after `#` at the end links it. `/risk list [{'|'.join(FILTERS)}]` shows this "
    "channel's risks of both kinds (default `open`)."
)


@dataclass(frozen=True)
class FileRisk:
    kind: ItemKind
    text: str


@dataclass(frozen=True)
class ListRisks:
    filter: str = DEFAULT_FILTER


RiskCommand = FileRisk | ListRisks


def parse_risk_command(text: str) -> RiskCommand:
    """`list [filter]`, or `[market|operational] <text>`; `help`, nothing, a kind without text
    or a list with anything but one filter is a `UsageError`."""
    stripped = text.strip()
    first, _, rest = stripped.partition(" ")
    rest = rest.strip()
    if not stripped or stripped.lower() == "help":
        raise UsageError(RISK_USAGE)
    if first.lower() == "list":
        return ListRisks(_filter(rest))
    kind = KIND_WORDS.get(first.lower())
    if kind is None:
        return FileRisk(guess_kind(stripped).kind, stripped)
    if not rest:
        raise UsageError(f"What is the {first.lower()} risk? {RISK_USAGE}")
    return FileRisk(kind, rest)


def _filter(words: str) -> str:
    if not words:
        return DEFAULT_FILTER
    name = words.lower().replace("_", "-")
    if name not in FILTERS:
        raise UsageError(
            f"`{echo(words)}` is not a risk filter: use {', '.join(f'`{f}`' for f in FILTERS)}. "
            f"{RISK_USAGE}"
        )
    return name
