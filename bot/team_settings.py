"""/rolecall and `/digest schedule`: a team's routing reactions, queue channels, time zone,
working week, holidays, escalations and digest; and a person's own time away."""

import re
from collections.abc import Mapping
from datetime import date, timedelta
from typing import cast

import holidays as calendars

from bot.blocks.common import capped, day_label, plural, quoted_name
from bot.blocks.lists import (
    ESCALATE_BY_LABEL,
    QUIET_WEEK_LABEL,
    schedule_summary,
    settings_summary,
    working_week,
)
from bot.clock import Clock
from bot.parsing.planning import ScheduleDigest
from bot.parsing.team import (
    SetEmoji,
    SetEscalation,
    SetEscalationDelivery,
    SetQueueChannel,
    SetQuietWeek,
    SetTimezone,
    SettingsCommand,
    ShowSettings,
)
from bot.parsing.words import UsageError
from bot.parsing.working_time import (
    MAX_HOLIDAY_NAME,
    AddHoliday,
    AwayCommand,
    ClearAway,
    ListHolidays,
    RemoveHoliday,
    SetAway,
    SetHolidayRegion,
    SetWorkWeek,
    ShowAway,
    ShowHolidayRegion,
    ShowWorkWeek,
)
from bot.people import People
from bot.permissions import Permissions
from bot.schedule import is_zone, local_today, zone
from bot.working_time import region_calendar
from storage.calendar import CalendarStore, Period
from storage.models import ItemKind, Role, TeamSettings
from storage.teams import TeamStore

HOLIDAY_YEARS_AHEAD = 5
# Every holiday a team can have ahead: one a day up to the furthest date `holiday add` takes.
MAX_HOLIDAYS_AHEAD = (HOLIDAY_YEARS_AHEAD + 1) * 366
LISTED_HOLIDAYS = 50
NEXT_PUBLIC_HOLIDAYS = 3
PUBLIC_HOLIDAY_SEARCH = 400  # days ahead to look for the next public holidays
LISTED_SUBDIVISIONS = 40
_TYPABLE_CODE = re.compile(r"[A-Za-z0-9]{1,16}")  # a subdivision code typed as one word


MAX_AWAY_PERIODS = 20  # ahead, per person: every run of the time loop reads them


class TeamSettingsCommands:
    def __init__(
        self,
        teams: TeamStore,
        permissions: Permissions,
        calendar: CalendarStore,
        people: People,
        clock: Clock,
    ) -> None:
        self.teams = teams
        self.permissions = permissions
        self.calendar = calendar
        self.people = people
        self.clock = clock

    def run(self, channel_id: str, actor_id: str, command: SettingsCommand) -> str:
        if isinstance(command, ShowAway | SetAway | ClearAway):
            return self._away(channel_id, actor_id, command)
        settings = self.teams.settings(channel_id)
        if isinstance(command, ShowSettings):
            return settings_summary(settings, len(self._holidays_ahead(settings)))
        if isinstance(command, ShowWorkWeek):
            return f"<#{channel_id}>'s working week: {working_week(settings)}."
        if isinstance(command, ListHolidays):
            return self._holiday_list(settings)
        if isinstance(command, ShowHolidayRegion):
            return self._region_summary(settings)
        self.permissions.require_team_manager(channel_id, actor_id, "change its settings")
        if isinstance(command, AddHoliday):
            return self._add_holiday(settings, actor_id, command)
        if isinstance(command, RemoveHoliday):
            return self._remove_holiday(settings, command.day)
        if isinstance(command, SetHolidayRegion):
            return self._set_region(settings, command.region)
        if isinstance(command, SetWorkWeek):
            return self._set_work_week(settings, command)
        if isinstance(command, SetEscalationDelivery):
            settings.escalate_by = command.delivery
            self.teams.save_settings(settings)
            return (
                f"Unacknowledged blockers in <#{channel_id}> now escalate "
                f"{ESCALATE_BY_LABEL[command.delivery]}: each of them hears once."
            )
        if isinstance(command, SetQuietWeek):
            settings.quiet_week = command.choice
            self.teams.save_settings(settings)
            return (
                f"A quiet week in <#{channel_id}> (nothing new, nothing open) now gets "
                f"{QUIET_WEEK_LABEL[command.choice]}."
            )
        return self._change(settings, command)

    def _change(
        self,
        settings: TeamSettings,
        command: SetEmoji | SetQueueChannel | SetTimezone | SetEscalation,
    ) -> str:
        """The settings whose reply is the whole summary."""
        if isinstance(command, SetEmoji):
            feedback = command.kind is ItemKind.FEEDBACK
            other = settings.blocker_emoji if feedback else settings.feedback_emoji
            if command.emoji == other:
                raise UsageError(f":{other}: already routes the other kind of item.")
            if feedback:
                settings.feedback_emoji = command.emoji
            else:
                settings.blocker_emoji = command.emoji
        elif isinstance(command, SetQueueChannel):
            if command.role is Role.PRODUCT:
                settings.product_queue_channel = command.channel_id
            else:
                settings.project_queue_channel = command.channel_id
        elif isinstance(command, SetTimezone):
            settings.timezone = command.timezone
        else:
            settings.escalation_hours = command.hours
        self.teams.save_settings(settings)
        reply = settings_summary(settings, len(self._holidays_ahead(settings)))
        if isinstance(command, SetQueueChannel) and command.channel_id:
            reply += f"\nMake sure I'm a member of <#{command.channel_id}> (`/invite @Rolecall`)."
        return reply

    def schedule_digest(self, channel_id: str, actor_id: str, command: ScheduleDigest) -> str:
        self.permissions.require_team_manager(channel_id, actor_id, "change its digest")
        settings = self.teams.settings(channel_id)
        settings.digest_weekday = command.weekday
        settings.digest_hour, settings.digest_minute = command.wall.hour, command.wall.minute
        if command.timezone:
            settings.timezone = command.timezone
        self.teams.save_settings(settings)
        return schedule_summary(settings)

    # Working week ------------------------------------------------------------------------

    def _set_work_week(self, settings: TeamSettings, command: SetWorkWeek) -> str:
        if command.days is not None:
            settings.work_days = ",".join(str(day) for day in sorted(command.days))
        if command.hours is not None:
            settings.work_start, settings.work_end = command.hours
        self.teams.save_settings(settings)
        return (
            f"<#{settings.channel_id}>'s working week is now {working_week(settings)}. "
            "Reminders and escalations wait for working time, and escalation thresholds count "
            "only these hours."
        )

    # Holidays ----------------------------------------------------------------------------

    def _today(self, settings: TeamSettings) -> date:
        return local_today(self.clock(), zone(settings.timezone))

    def _holidays_ahead(self, settings: TeamSettings) -> list[tuple[date, str]]:
        found = self.calendar.holidays(
            settings.channel_id, self._today(settings), MAX_HOLIDAYS_AHEAD
        )
        return [(holiday.day, holiday.name) for holiday in found]

    def _add_holiday(self, settings: TeamSettings, actor_id: str, command: AddHoliday) -> str:
        today, label = self._today(settings), day_label(command.day)
        if command.day < today:
            raise UsageError(f"{label} is in the past: pick a date from today on.")
        if command.day > years_after(today, HOLIDAY_YEARS_AHEAD):
            raise UsageError(
                f"{label} is more than {HOLIDAY_YEARS_AHEAD} years ahead: add it nearer the time."
            )
        team = f"<#{settings.channel_id}>"
        if not self.calendar.add_holiday(settings.channel_id, command.day, command.name, actor_id):
            return f"{label} is already a holiday in {team}: `/rolecall holiday list` shows them."
        named = f" ({quoted_name(command.name, MAX_HOLIDAY_NAME)})" if command.name else ""
        return (
            f"{label}{named} is now a holiday in {team}: reminders and escalations wait for the "
            "next working day."
        )

    def _remove_holiday(self, settings: TeamSettings, day: date) -> str:
        team = f"<#{settings.channel_id}>"
        if self.calendar.remove_holiday(settings.channel_id, day):
            return f"{day_label(day)} is no longer a holiday in {team}."
        return f"{day_label(day)} was not a holiday in {team}: `/rolecall holiday list` shows them."

    def _holiday_list(self, settings: TeamSettings) -> str:
        team = f"<#{settings.channel_id}>"
        ahead = self._holidays_ahead(settings)
        region = (
            f"\nIt also follows the public holidays of {settings.holiday_region} "
            "(`/rolecall holidays`)."
            if settings.holiday_region
            else ""
        )
        if not ahead:
            return (
                f"{team} has no holidays ahead. Add one with "
                f"`/rolecall holiday add 2026-12-25 [name]`.{region}"
            )
        lines = [
            f"• {day_label(day)}" + (f" — {quoted_name(name, MAX_HOLIDAY_NAME)}" if name else "")
            for day, name in ahead
        ]
        listed = "\n".join(capped(lines, LISTED_HOLIDAYS))
        return f"Holidays ahead in {team}:\n{listed}{region}"

    def _region_summary(self, settings: TeamSettings) -> str:
        team = f"<#{settings.channel_id}>"
        ahead = plural(len(self._holidays_ahead(settings)), "team holiday")
        own = f"\n{team} also has {ahead} ahead (`/rolecall holiday list`)."
        if settings.holiday_region is None:
            return (
                f"{team} follows no public-holiday calendar: `/rolecall holidays DE-BY` adds "
                f"one (a country code, optionally with its region).{own}"
            )
        return self._region_reply(settings, "follows") + own

    def _set_region(self, settings: TeamSettings, region: str | None) -> str:
        team = f"<#{settings.channel_id}>"
        if region is not None:
            region = canonical_region(region)
            try:
                region_calendar(region)
            except NotImplementedError:
                raise UsageError(region_hint(region)) from None
        settings.holiday_region = region
        self.teams.save_settings(settings)
        if region is None:
            return f"{team} no longer follows a public-holiday calendar."
        return self._region_reply(settings, "now follows")

    def _region_reply(self, settings: TeamSettings, verb: str) -> str:
        assert settings.holiday_region is not None
        region = settings.holiday_region
        upcoming = next_public_holidays(region, self._today(settings), NEXT_PUBLIC_HOLIDAYS)
        lines = "".join(
            f"\n• {day_label(day)} — {quoted_name(name, 100)}" for day, name in upcoming
        )
        following = f"<#{settings.channel_id}> {verb} the public holidays of {region}."
        return f"{following} Next:{lines}" if upcoming else f"{following} None in the next year."

    # Time away ---------------------------------------------------------------------------

    def _away(self, channel_id: str, actor_id: str, command: AwayCommand) -> str:
        """A person's own time away, in every team: anyone may set theirs."""
        today = self._person_today(channel_id, actor_id)
        periods = self.calendar.away_of(actor_id, today)
        if isinstance(command, ShowAway):
            if not periods:
                return (
                    "You have no time away ahead. `/rolecall away 2026-12-21 2027-01-03` "
                    "sets some: your reminders wait until you're back."
                )
            listed = "\n".join(f"• {span(period)}" for period in periods)
            return f"Your time away:\n{listed}\n`/rolecall away off` clears it."
        if isinstance(command, ClearAway):
            cleared = self.calendar.clear_away(actor_id, today)
            if not cleared:
                return "You had no time away ahead: nothing to clear."
            return (
                f"Cleared your time away ({plural(cleared, 'period')}): "
                "your reminders reach you as usual."
            )
        period = (command.first, command.last)
        if command.last < today:
            raise UsageError(f"{span(period)} is over: pick days from today on.")
        if any(first <= command.first and command.last <= last for first, last in periods):
            return f"You're already away {span(period)}."
        if len(periods) >= MAX_AWAY_PERIODS:
            raise UsageError(
                f"You already have {MAX_AWAY_PERIODS} periods away ahead: `/rolecall away off` "
                "clears them, then set the ones you need."
            )
        self.calendar.set_away(actor_id, command.first, command.last)
        return (
            f"You're away {span(period)}, in every team: your reminders wait until you're "
            "back, and blocker escalations go to someone else meanwhile. "
            "`/rolecall away off` undoes it."
        )

    def _person_today(self, channel_id: str, user_id: str) -> date:
        """Today in the person's own Slack zone (time away is in their days); the team's
        zone when Slack has none for them."""
        tz = str(self.people.profile(user_id).get("tz") or "")
        if is_zone(tz):
            return local_today(self.clock(), zone(tz))
        return self._today(self.teams.settings(channel_id))


def span(period: Period) -> str:
    first, last = period
    return day_label(first) if first == last else f"{day_label(first)} to {day_label(last)}"


def years_after(day: date, years: int) -> date:
    """The same date `years` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def next_public_holidays(region: str, since: date, count: int) -> list[tuple[date, str]]:
    """The region's next `count` public holidays from `since` on, with their names."""
    calendar = region_calendar(region)
    # The `holidays` library's calendars map each date to its names.
    names = cast(Mapping[date, str], calendar)
    found: list[tuple[date, str]] = []
    for offset in range(PUBLIC_HOLIDAY_SEARCH):
        day = since + timedelta(days=offset)
        if day in calendar:
            found.append((day, names.get(day, "")))
            if len(found) == count:
                break
    return found


def canonical_region(region: str) -> str:
    """The region as the `holidays` library spells it ("DE-by" is "DE-BY", "NL-noord" is
    "NL-Noord"): its codes are case-sensitive, and not all in capitals."""
    country, dash, subdivision = region.partition("-")
    codes = calendars.list_supported_countries().get(country, [])
    known = next((code for code in codes if code.casefold() == subdivision.casefold()), None)
    return f"{country}{dash}{known or subdivision}"


def region_hint(region: str) -> str:
    """What to type instead of a region the `holidays` library does not know."""
    country, _, subdivision = region.partition("-")
    supported = calendars.list_supported_countries()
    if country not in supported:
        return (
            f"I don't know public holidays for `{country}`: use a two-letter country code "
            "like `DE`, `US` or `GB`, optionally with its region, like `DE-BY` or `US-CA`."
        )
    codes = [code for code in supported[country] if _TYPABLE_CODE.fullmatch(code)]
    if not codes:
        return f"`{country}` has no regions I know: use `/rolecall holidays {country}`."
    listed = ", ".join(f"`{country}-{code}`" for code in codes[:LISTED_SUBDIVISIONS])
    hidden = len(codes) - LISTED_SUBDIVISIONS
    more = f" and {hidden} more" if hidden > 0 else ""
    return (
        f"`{country}` has no region `{subdivision}`. Use the country alone (`{country}`) or "
        f"one of {listed}{more}."
    )
