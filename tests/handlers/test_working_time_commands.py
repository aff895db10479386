"""/rolecall workweek, holiday, holidays, away, escalate and quiet-week through signed
requests: what the person sees, what is stored, who may, and `/role` keeping the holder's zone.

The clock starts Monday 30 Nov 2026 08:00 UTC."""

from datetime import date, timedelta

import holidays
import pytest

from handlers.services import Services
from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient
from storage.models import EscalationDelivery, QuietWeek, Role, TeamSettings
from tests.conftest import ALICE, BOB, CAROL, DAVE, ERIN, TEAM
from tests.handlers.scenario import command, ephemerals, set_up_team

OTHER = "COTHER"  # a second team in the same workspace
REFUSED = "Sorry, only the people who hold a role in #launch (or a workspace admin) can change"


def rolecall(slack: SignedClient, fake: FakeSlack, text: str, user: str = ALICE) -> str:
    return command(slack, fake, "/rolecall", text, user)


def settings_of(services: Services, channel: str = TEAM) -> TeamSettings:
    return services.team_settings.teams.settings(channel)


def in_channel(slack: SignedClient, fake: FakeSlack, channel: str, text: str, user: str) -> str:
    before = len(ephemerals(fake, user))
    assert slack.command("/rolecall", text, user, channel).status_code == 200
    fake.wait_for(lambda: len(ephemerals(fake, user)) > before)
    return ephemerals(fake, user)[-1]


# Working week ------------------------------------------------------------------------------


def test_the_working_week_is_shown_and_set_in_parts(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    assert rolecall(slack, fake, "workweek", ERIN) == (
        "#launch's working week: mon-fri, 09:00-17:00 (UTC)."
    )
    rolecall(slack, fake, "timezone Asia/Jerusalem")

    reply = rolecall(slack, fake, "workweek sun-thu 08:30-16:30")

    assert reply.startswith("#launch's working week is now sun-thu, 08:30-16:30 (Asia/Jerusalem).")
    stored = settings_of(services)
    assert (stored.work_days, stored.work_start, stored.work_end) == ("0,1,2,3,6", 510, 990)

    rolecall(slack, fake, "workweek 10:00-18:00")  # keeps the days
    assert (settings_of(services).work_days, settings_of(services).work_start) == ("0,1,2,3,6", 600)
    rolecall(slack, fake, "workweek monday-friday")  # keeps the hours
    stored = settings_of(services)
    assert (stored.work_days, stored.work_start, stored.work_end) == ("0,1,2,3,4", 600, 1080)


def test_bad_working_hours_get_a_usage_reply_and_change_nothing(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)

    reply = rolecall(slack, fake, "workweek mon-fri 17:00-09:00")

    assert reply.startswith("In `17:00-09:00` the day ends before it starts")
    stored = settings_of(services)
    assert (stored.work_days, stored.work_start, stored.work_end) == ("0,1,2,3,4", 540, 1020)


@pytest.mark.parametrize(
    "text",
    [
        "workweek mon-fri",
        "holiday add 2026-12-25",
        "holiday remove 2026-12-25",
        "holidays DE-BY",
        "holidays off",
        "escalate channel",
        "quiet-week post",
    ],
)
def test_someone_without_a_role_may_not_change_a_setting(
    slack: SignedClient, fake: FakeSlack, services: Services, text: str
) -> None:
    set_up_team(slack, fake)
    before = settings_of(services).model_dump()

    assert rolecall(slack, fake, text, ERIN).startswith(REFUSED)

    assert settings_of(services).model_dump() == before
    assert services.team_settings.calendar.holidays(TEAM, date(2026, 1, 1), 10) == []


def test_an_admin_without_a_role_may_change_them(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    rolecall(slack, fake, "workweek mon-thu", DAVE)
    assert settings_of(services).work_days == "0,1,2,3"


# Holidays ----------------------------------------------------------------------------------


def test_a_holiday_is_added_listed_refused_twice_and_removed(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)

    added = rolecall(slack, fake, "holiday add 2026-12-24 Launch party <!here> &amp; co", BOB)

    assert added == (
        "Thu 24 Dec 2026 (Launch party <!here> & co) is now a holiday in #launch: reminders "
        "and escalations wait for the next working day."
    )
    raw = fake.seen_by(BOB)[-1].text
    assert "Launch party &lt;!here&gt; &amp; co" in raw  # escaped: it pings nobody
    stored = services.team_settings.calendar.holidays(TEAM, date(2026, 11, 30), 10)
    assert [(h.day, h.name, h.added_by) for h in stored] == [
        (date(2026, 12, 24), "Launch party <!here> &amp; co", BOB)  # as Slack sent it
    ]
    assert rolecall(slack, fake, "holiday add 2026-12-31") == (
        "Thu 31 Dec 2026 is now a holiday in #launch: reminders and escalations wait for the "
        "next working day."
    )
    assert rolecall(slack, fake, "holiday add 2026-12-24 Again") == (
        "Thu 24 Dec 2026 is already a holiday in #launch: `/rolecall holiday list` shows them."
    )
    assert rolecall(slack, fake, "holiday list", ERIN) == (
        "Holidays ahead in #launch:\n"
        "• Thu 24 Dec 2026 — Launch party <!here> & co\n"
        "• Thu 31 Dec 2026"
    )

    assert rolecall(slack, fake, "holiday remove 2026-12-24") == (
        "Thu 24 Dec 2026 is no longer a holiday in #launch."
    )
    assert rolecall(slack, fake, "holiday remove 2026-12-24") == (
        "Thu 24 Dec 2026 was not a holiday in #launch: `/rolecall holiday list` shows them."
    )
    assert rolecall(slack, fake, "holiday", ERIN) == (
        "Holidays ahead in #launch:\n• Thu 31 Dec 2026"
    )


def test_a_holiday_in_the_past_or_beyond_five_years_is_refused_in_the_teams_zone(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)

    assert rolecall(slack, fake, "holiday add 2026-11-29") == (
        "Sun 29 Nov 2026 is in the past: pick a date from today on."
    )
    assert rolecall(slack, fake, "holiday add 2031-12-01") == (
        "Mon 1 Dec 2031 is more than 5 years ahead: add it nearer the time."
    )
    rolecall(slack, fake, "holiday add 2031-11-30")
    # At 08:00 UTC it is still Sunday 29 Nov in Honolulu: that day is today for the team.
    rolecall(slack, fake, "timezone Pacific/Honolulu")
    rolecall(slack, fake, "holiday add 2026-11-29")

    days = [h.day for h in services.team_settings.calendar.holidays(TEAM, date(2026, 1, 1), 10)]
    assert days == [date(2026, 11, 29), date(2031, 11, 30)]


def test_the_list_shows_holidays_ahead_only_and_at_most_fifty(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    calendar = services.team_settings.calendar
    calendar.add_holiday(TEAM, date(2026, 11, 27), "Gone", ALICE)
    for offset in range(53):
        calendar.add_holiday(TEAM, date(2027, 1, 1) + timedelta(days=offset), "", ALICE)

    lines = rolecall(slack, fake, "holiday list").split("\n")

    assert lines[0] == "Holidays ahead in #launch:"
    assert lines[1] == "• Fri 1 Jan 2027"
    assert len(lines) == 1 + 50 + 1 and lines[-1] == "…and 3 more."
    assert "Gone" not in "\n".join(lines)
    assert "team holidays ahead: 53" in rolecall(slack, fake, "settings")


def test_holidays_belong_to_their_team(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    fake.add_channel(OTHER, "other", [ALICE, BOB, CAROL])
    set_up_team(slack, fake)
    rolecall(slack, fake, "holiday add 2026-12-24 Launch day off")

    other = in_channel(slack, fake, OTHER, "holiday list", CAROL)

    assert other.startswith("#other has no holidays ahead.")
    assert in_channel(slack, fake, OTHER, "holiday remove 2026-12-24", CAROL).startswith(
        "Thu 24 Dec 2026 was not a holiday in #other"
    )
    in_channel(slack, fake, OTHER, "holiday add 2026-12-24 Other's", CAROL)
    ours = services.team_settings.calendar.holidays(TEAM, date(2026, 11, 30), 10)
    assert [h.name for h in ours] == ["Launch day off"]
    assert "team holidays ahead: 1" in rolecall(slack, fake, "settings")


def test_a_region_calendar_is_checked_shown_and_dropped(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    assert rolecall(slack, fake, "holidays", ERIN) == (
        "#launch follows no public-holiday calendar: `/rolecall holidays DE-BY` adds one (a "
        "country code, optionally with its region).\n"
        "#launch also has 0 team holidays ahead (`/rolecall holiday list`)."
    )

    reply = rolecall(slack, fake, "holidays de-by")

    names = holidays.country_holidays("DE", subdiv="BY", years=(2026, 2027))
    assert reply == (
        "#launch now follows the public holidays of DE-BY. Next:\n"
        f"• Fri 25 Dec 2026 — {names[date(2026, 12, 25)]}\n"
        f"• Sat 26 Dec 2026 — {names[date(2026, 12, 26)]}\n"
        f"• Fri 1 Jan 2027 — {names[date(2027, 1, 1)]}"
    )
    assert settings_of(services).holiday_region == "DE-BY"
    shown = rolecall(slack, fake, "holidays", ERIN)
    assert shown.startswith("#launch follows the public holidays of DE-BY. Next:\n• Fri 25 Dec")
    assert "public holidays: DE-BY" in rolecall(slack, fake, "settings")

    assert rolecall(slack, fake, "holidays off") == (
        "#launch no longer follows a public-holiday calendar."
    )
    assert settings_of(services).holiday_region is None


def test_an_unknown_region_says_which_codes_look_right(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    rolecall(slack, fake, "holidays US-CA")

    country = rolecall(slack, fake, "holidays XX")
    subdivision = rolecall(slack, fake, "holidays DE-ZZ")

    assert country == (
        "I don't know public holidays for `XX`: use a two-letter country code like `DE`, `US` "
        "or `GB`, optionally with its region, like `DE-BY` or `US-CA`."
    )
    assert subdivision.startswith("`DE` has no region `ZZ`. Use the country alone (`DE`) or one of")
    assert "`DE-BY`" in subdivision and "`DE-BE`" in subdivision
    assert settings_of(services).holiday_region == "US-CA"


# Time away ---------------------------------------------------------------------------------


def test_anyone_sets_lists_and_clears_their_own_time_away(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    fake.add_channel(OTHER, "other", [ALICE, CAROL])
    set_up_team(slack, fake)
    calendar = services.team_settings.calendar

    reply = rolecall(slack, fake, "away 2026-12-21 2027-01-03", CAROL)  # Carol holds no role

    assert reply == (
        "You're away Mon 21 Dec 2026 to Sun 3 Jan 2027, in every team: your reminders wait until "
        "you're back, and blocker escalations go to someone else meanwhile. "
        "`/rolecall away off` undoes it."
    )
    assert calendar.away_of(CAROL, date(2026, 11, 30)) == [(date(2026, 12, 21), date(2027, 1, 3))]
    assert rolecall(slack, fake, "away 2026-12-24", CAROL) == (
        "You're already away Thu 24 Dec 2026."
    )
    rolecall(slack, fake, "away 2027-02-01", CAROL)
    assert in_channel(slack, fake, OTHER, "away", CAROL) == (  # the same person, not per team
        "Your time away:\n"
        "• Mon 21 Dec 2026 to Sun 3 Jan 2027\n"
        "• Mon 1 Feb 2027\n"
        "`/rolecall away off` clears it."
    )
    assert calendar.away_of(ERIN, date(2026, 11, 30)) == []

    assert rolecall(slack, fake, "away off", CAROL) == (
        "Cleared your time away (2 periods): your reminders reach you as usual."
    )
    assert calendar.away_of(CAROL, date(2026, 11, 30)) == []
    assert rolecall(slack, fake, "away off", CAROL) == (
        "You had no time away ahead: nothing to clear."
    )
    assert rolecall(slack, fake, "away", CAROL).startswith("You have no time away ahead.")


def test_time_away_stops_piling_up_at_twenty_periods_ahead(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    calendar = services.team_settings.calendar
    for day in range(1, 21):
        rolecall(slack, fake, f"away 2027-03-{day:02d}", CAROL)
    assert rolecall(slack, fake, "away 2027-04-01", CAROL) == (
        "You already have 20 periods away ahead: `/rolecall away off` clears them, then set "
        "the ones you need."
    )
    assert len(calendar.away_of(CAROL, date(2026, 11, 30))) == 20


def test_time_away_that_is_over_is_refused_in_the_persons_zone(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    calendar = services.team_settings.calendar
    assert rolecall(slack, fake, "away 2026-11-20 2026-11-29", CAROL) == (
        "Fri 20 Nov 2026 to Sun 29 Nov 2026 is over: pick days from today on."
    )
    assert rolecall(slack, fake, "away 2027-01-03 2026-12-21", CAROL).startswith(
        "Your time away ends (2026-12-21) before it starts (2027-01-03)"
    )
    assert calendar.away_of(CAROL, date(2026, 1, 1)) == []

    # At 08:00 UTC it is still Sunday 29 Nov in Honolulu, where Carol is.
    fake.users[CAROL]["tz"] = "Pacific/Honolulu"
    rolecall(slack, fake, "away 2026-11-20 2026-11-29", CAROL)
    assert calendar.away_of(CAROL, date(2026, 11, 29)) == [(date(2026, 11, 20), date(2026, 11, 29))]


def test_time_away_without_a_zone_from_slack_uses_the_teams(
    slack: SignedClient, fake: FakeSlack
) -> None:
    rolecall(slack, fake, "timezone Pacific/Honolulu")  # 29 Nov there: 08:00 UTC is 22:00
    fake.users[CAROL]["tz"] = None

    assert rolecall(slack, fake, "away 2026-11-29", CAROL).startswith("You're away Sun 29 Nov")


# Escalations and quiet weeks ---------------------------------------------------------------


def test_escalation_delivery_and_quiet_week_are_stored_and_summarised(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)

    escalate = rolecall(slack, fake, "escalate channel", BOB)
    quiet = rolecall(slack, fake, "quiet-week post", BOB)

    assert escalate == (
        "Unacknowledged blockers in #launch now escalate in one channel post that mentions the "
        "project managers: each of them hears once."
    )
    assert quiet == "A quiet week in #launch (nothing new, nothing open) now gets a one-line post."
    stored = settings_of(services)
    assert (stored.escalate_by, stored.quiet_week) == (EscalationDelivery.CHANNEL, QuietWeek.LINE)
    assert rolecall(slack, fake, "escalate dm", BOB) == (
        "Unacknowledged blockers in #launch now escalate by DM to each project manager: each of "
        "them hears once."
    )
    rolecall(slack, fake, "quiet-week skip", BOB)
    stored = settings_of(services)
    assert (stored.escalate_by, stored.quiet_week) == (EscalationDelivery.DM, QuietWeek.SKIP)


def test_the_settings_summary_shows_the_working_time(slack: SignedClient, fake: FakeSlack) -> None:
    set_up_team(slack, fake)
    rolecall(slack, fake, "timezone Europe/Berlin")
    rolecall(slack, fake, "workweek mon-thu 08:00-16:00")
    rolecall(slack, fake, "holidays DE-BY")
    rolecall(slack, fake, "holiday add 2026-12-24 Christmas Eve")
    rolecall(slack, fake, "escalate channel")
    rolecall(slack, fake, "quiet-week post")

    assert rolecall(slack, fake, "settings", ERIN) == (
        "Settings for #launch:\n"
        "• feedback reaction: :bulb:\n"
        "• blocker reaction: :no_entry:\n"
        "• product cards go to: DMs to the role holders\n"
        "• project cards go to: DMs to the role holders\n"
        "• time zone: Europe/Berlin\n"
        "• working week: mon-thu, 08:00-16:00 (Europe/Berlin)\n"
        "• public holidays: DE-BY; team holidays ahead: 1\n"
        "• weekly digest: Monday 09:00\n"
        "• a quiet week (nothing new, nothing open): a one-line post\n"
        "• unacknowledged blockers escalate after 24 working hours, in one channel post that "
        "mentions the project managers"
    )


# /role keeps the holder's zone -------------------------------------------------------------


def test_a_new_role_holder_keeps_their_slack_time_zone(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    fake.users[ALICE]["tz"] = "Europe/Berlin"
    fake.users[BOB]["tz"] = "Mars/Olympus_Mons"  # not a zone this machine knows
    fake.users[CAROL]["tz"] = None

    command(slack, fake, "/role", f"<@{ALICE}> product", ALICE)
    command(slack, fake, "/role", f"<@{BOB}> project", ALICE)
    command(slack, fake, "/role", f"<@{CAROL}> project", ALICE)

    teams = services.team_settings.teams
    assert [(h.user_id, h.tz) for h in teams.holder_zones(Role.PRODUCT)[TEAM]] == [
        (ALICE, "Europe/Berlin")
    ]
    assert [(h.user_id, h.tz) for h in teams.holder_zones(Role.PROJECT)[TEAM]] == [
        (BOB, "UTC"),
        (CAROL, "UTC"),
    ]
