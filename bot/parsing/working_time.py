"""What people type about working time: `/rolecall workweek`, `holiday`, `holidays`, `away`."""

import re
from dataclasses import dataclass
from datetime import date

from bot.parsing.words import DATE, UsageError, echo, parse_date
from bot.schedule import WEEKDAYS

_HOURS = re.compile(r"([0-9]{1,2}):([0-9]{2})-([0-9]{1,2}):([0-9]{2})")
_SEPARATOR = re.compile(r"\s*([,-])\s*")  # "mon - fri", "mon, tue" read as "mon-fri", "mon,tue"
_REGION = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,16})?")  # a country, then a subdivision
MAX_HOLIDAY_NAME = 100
MAX_AWAY_DAYS = 366

WORKWEEK_USAGE = (
    "Usage: `/rolecall workweek mon-fri 09:00-17:00` sets this team's working days and hours "
    "(24-hour, in the team's time zone). Days are a range (`sun-thu`, `monday-friday`) or a list "
    "(`mon,tue,thu`); either part alone keeps the other. `/rolecall workweek` shows them."
)
HOLIDAY_USAGE = (
    "Usage: `/rolecall holiday add 2026-12-25 [name]` gives this team a day off, "
    "`/rolecall holiday list` shows the ones ahead, `/rolecall holiday remove 2026-12-25` takes "
    "one back. `/rolecall holidays DE-BY` follows a country's (or region's) public holidays, "
    "`/rolecall holidays off` stops."
)
AWAY_USAGE = (
    "Usage: `/rolecall away 2026-12-21 2027-01-03` (or one date for a single day) tells Rolecall "
    "you're away: your reminders wait until you're back. `/rolecall away` lists your time away; "
    "`/rolecall away off` clears it."
)


@dataclass(frozen=True)
class ShowWorkWeek:
    pass


@dataclass(frozen=True)
class SetWorkWeek:
    """A part left out (None) keeps its current value."""

    days: frozenset[int] | None  # date.weekday() numbers
    hours: tuple[int, int] | None  # start and end, minutes after midnight


@dataclass(frozen=True)
class ListHolidays:
    pass


@dataclass(frozen=True)
class AddHoliday:
    day: date
    name: str  # as typed (Slack's escaping kept); "" when unnamed


@dataclass(frozen=True)
class RemoveHoliday:
    day: date


@dataclass(frozen=True)
class ShowHolidayRegion:
    pass


@dataclass(frozen=True)
class SetHolidayRegion:
    region: str | None  # "DE-BY" (the country in capitals); None: no public-holiday calendar


@dataclass(frozen=True)
class ShowAway:
    pass


@dataclass(frozen=True)
class SetAway:
    first: date
    last: date


@dataclass(frozen=True)
class ClearAway:
    pass


AwayCommand = ShowAway | SetAway | ClearAway  # a person's own: no role needed, not per team


def parse_workweek(text: str) -> ShowWorkWeek | SetWorkWeek:
    """`[days] [HH:MM-HH:MM]` after `workweek`, in either order; nothing shows the week."""
    words = _SEPARATOR.sub(r"\1", text).split()
    if not words:
        return ShowWorkWeek()
    hours = [word for word in words if ":" in word]
    days = [word for word in words if ":" not in word]
    if len(hours) > 1 or len(days) > 1:
        raise UsageError(WORKWEEK_USAGE)
    return SetWorkWeek(
        parse_work_days(days[0]) if days else None, parse_hours(hours[0]) if hours else None
    )


def parse_work_days(word: str) -> frozenset[int]:
    """`mon-fri`, `sun-thu` (a range may wrap past Sunday), `mon,tue,thu`, `monday-friday`, or
    ranges and days mixed (`mon-wed,fri`): date.weekday() numbers."""
    days: set[int] = set()
    for part in word.lower().split(","):
        first, dash, last = part.partition("-")
        start = _weekday(first)
        length = (_weekday(last) - start) % 7 + 1 if dash else 1
        days.update((start + offset) % 7 for offset in range(length))
    return frozenset(days)


def _weekday(word: str) -> int:
    """A day by its name or a beginning of it of three letters or more (`tue`, `thurs`)."""
    for number, name in enumerate(WEEKDAYS):
        if len(word) >= 3 and name.startswith(word):
            return number
    if not word:  # "mon,,tue", "mon-"
        raise UsageError(WORKWEEK_USAGE)
    raise UsageError(f"`{echo(word)}` is not a day of the week. {WORKWEEK_USAGE}")


def parse_hours(word: str) -> tuple[int, int]:
    """`09:00-17:00` (24-hour, the end after the start) as minutes after midnight."""
    match = _HOURS.fullmatch(word)
    if match is None:
        raise UsageError(f"`{echo(word)}` is not working hours. {WORKWEEK_USAGE}")
    start_hour, start_minute, end_hour, end_minute = (int(part) for part in match.groups())
    if max(start_hour, end_hour) > 23 or max(start_minute, end_minute) > 59:
        raise UsageError(f"`{echo(word)}` is not a time of day: use 00:00 to 23:59.")
    start, end = start_hour * 60 + start_minute, end_hour * 60 + end_minute
    if end <= start:
        raise UsageError(
            f"In `{echo(word)}` the day ends before it starts: working hours run within one day, "
            "like `09:00-17:00`."
        )
    return start, end


def parse_holiday_command(
    first: str, text: str
) -> ListHolidays | AddHoliday | RemoveHoliday | ShowHolidayRegion | SetHolidayRegion:
    """`holiday add <date> [name]`, `holiday remove <date>`, `holiday [list]`; `holidays
    <region>|off`, `holidays` (which shows the region). The other word works for each too."""
    words = text.split(None, 3)
    action = words[1].lower() if len(words) > 1 else ("list" if first == "holiday" else "")
    if action == "list" and len(words) <= 2:
        return ListHolidays()
    if action in ("add", "remove") and len(words) >= 3:
        if not DATE.fullmatch(words[2]):
            raise UsageError(f"`{echo(words[2])}` is not a date: use YYYY-MM-DD. {HOLIDAY_USAGE}")
        day = parse_date(words[2])
        name = " ".join(words[3].split()) if len(words) == 4 else ""
        if action == "remove":
            if name:
                raise UsageError(HOLIDAY_USAGE)
            return RemoveHoliday(day)
        if len(name) > MAX_HOLIDAY_NAME:
            raise UsageError(f"Keep a holiday's name under {MAX_HOLIDAY_NAME} characters.")
        return AddHoliday(day, name)
    if not action:
        return ShowHolidayRegion()
    if len(words) == 2 and action not in ("add", "remove", "list"):
        if action == "off":
            return SetHolidayRegion(None)
        region = words[1].replace("_", "-")
        if _REGION.fullmatch(region):
            country, dash, subdivision = region.partition("-")
            return SetHolidayRegion(f"{country.upper()}{dash}{subdivision}")
        raise UsageError(
            f"`{echo(words[1])}` is not a country or region code: use a country like `DE` or "
            f"`US`, optionally with its region, like `DE-BY` or `US-CA`. {HOLIDAY_USAGE}"
        )
    raise UsageError(HOLIDAY_USAGE)


def parse_away(words: list[str]) -> AwayCommand:
    """`away <first> [<last>]` (also `<first> to <last>`), `away off`, `away` or `away list`."""
    lowered = [word.lower() for word in words]
    if lowered in ([], ["list"]):
        return ShowAway()
    if lowered == ["off"]:
        return ClearAway()
    dates = [word for word in lowered if word not in ("-", "to", "until")]
    if not 1 <= len(dates) <= 2 or not all(DATE.fullmatch(word) for word in dates):
        raise UsageError(AWAY_USAGE)
    first, last = parse_date(dates[0]), parse_date(dates[-1])
    if last < first:
        raise UsageError(
            f"Your time away ends ({dates[-1]}) before it starts ({dates[0]}): "
            "put the first day first."
        )
    if (last - first).days + 1 > MAX_AWAY_DAYS:
        raise UsageError(f"Time away covers at most {MAX_AWAY_DAYS} days at once.")
    return SetAway(first, last)
