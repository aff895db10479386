"""What people type to shape the roadmap: /roadmap."""

import re
from dataclasses import dataclass

from bot.parsing.words import UsageError, echo, name
from storage.roadmap import Quarter

ROADMAP_USAGE = (
    "Usage: `/roadmap` shows this channel's themes by quarter; "
    '`/roadmap add "&lt;theme&gt;" &lt;YYYY-Qn&gt;` adds one (e.g. `2027-Q1`); '
    '`/roadmap link "&lt;theme&gt;" &lt;milestone&gt;` makes a milestone deliver it; '
    "`/roadmap unlink &lt;milestone&gt;`; "
    '`/roadmap remove "&lt;theme&gt;"`. Changes belong to the product manager.'
)

_QUARTER = re.compile(r"([0-9]{4})-?q([1-4])", re.IGNORECASE)  # 2027-Q1, 2027Q1
_QUARTER_FIRST = re.compile(r"q([1-4])", re.IGNORECASE)  # q1 2027
_YEAR = re.compile(r"[0-9]{4}")
_QUOTES = {'"': '"', "“": "”", "”": "”"}  # opening → closing (straight, or as phones type)


@dataclass(frozen=True)
class ShowRoadmap:
    pass


@dataclass(frozen=True)
class AddTheme:
    name: str
    quarter: Quarter


@dataclass(frozen=True)
class LinkMilestone:
    """The theme and milestone names, or every way to split unquoted words between them
    (the first split naming both a theme and a milestone wins)."""

    splits: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class UnlinkMilestone:
    milestone: str


@dataclass(frozen=True)
class RemoveTheme:
    name: str


RoadmapCommand = ShowRoadmap | AddTheme | LinkMilestone | UnlinkMilestone | RemoveTheme


def parse_roadmap_command(text: str) -> RoadmapCommand:
    """`` (show), `add <theme> <quarter>`, `link <theme> <milestone>`, `unlink <milestone>`,
    `remove <theme>`; a name of several words may be quoted."""
    verb, _, rest = text.strip().partition(" ")
    verb, rest = verb.lower(), rest.strip()
    if not verb or (verb == "show" and not rest):
        return ShowRoadmap()
    if verb == "add" and rest:
        theme, quarter = _name_and_quarter(rest.split())
        return AddTheme(theme, quarter)
    if verb == "link" and rest:
        return LinkMilestone(_splits(rest))
    if verb == "unlink" and rest:
        return UnlinkMilestone(_unquoted(rest))
    if verb == "remove" and rest:
        return RemoveTheme(_unquoted(rest))
    raise UsageError(ROADMAP_USAGE)


def parse_quarter(words: list[str]) -> tuple[Quarter, int] | None:
    """The quarter the words end with (`2027-Q1`, `2027Q1`, `q1 2027`) and how many words it
    took; None when they end with none."""
    if words and (found := _QUARTER.fullmatch(words[-1])):
        return Quarter(int(found.group(1)), int(found.group(2))), 1
    if len(words) >= 2 and _YEAR.fullmatch(words[-1]) and _QUARTER_FIRST.fullmatch(words[-2]):
        return Quarter(int(words[-1]), int(words[-2][1])), 2
    return None


def _name_and_quarter(words: list[str]) -> tuple[str, Quarter]:
    parsed = parse_quarter(words)
    if parsed is None:
        raise UsageError(
            f"`{echo(words[-1])}` is not a quarter: end with one like `2027-Q1`. {ROADMAP_USAGE}"
        )
    quarter, taken = parsed
    return _unquoted(" ".join(words[:-taken])), quarter


def _splits(text: str) -> tuple[tuple[str, str], ...]:
    """A quoted theme and the milestone after it, or every split of unquoted words."""
    closing = _QUOTES.get(text[0])
    if closing is not None and closing in text[1:]:
        theme, _, milestone = text[1:].partition(closing)
        return ((_name(theme), _name(milestone)),)
    words = text.split()
    if len(words) < 2:
        raise UsageError(ROADMAP_USAGE)
    return tuple((" ".join(words[:at]), " ".join(words[at:])) for at in range(1, len(words)))


def _unquoted(text: str) -> str:
    """A name, without the quotes around it if it has them."""
    text = text.strip()
    if len(text) >= 2 and _QUOTES.get(text[0]) == text[-1]:
        text = text[1:-1]
    return _name(text)


def _name(text: str) -> str:
    return name(text.split(), ROADMAP_USAGE)
