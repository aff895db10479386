"""The time loop's promises held where they are easiest to break: an escalation switched between
a DM and a channel post, a manager in a far zone, the founder as the fallback, a "day before"
after a long break, a manager ahead of the assignee's day (found by a red-team pass)."""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from bot.nudges import is_nudge_day
from bot.reminders import MANAGER_DAILY_DAYS
from bot.tick import Ticker
from bot.working_time import WorkingTime
from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient
from tests.conftest import ALICE, BOB, CAROL, ERIN, FixedClock
from tests.handlers.scenario import command, dm_texts, nudges, set_up_team, tick, utc


def escalations_to(fake: FakeSlack, user: str) -> list[str]:
    return [t for t in dm_texts(fake, user) if "not acknowledged after" in t]


def pings(fake: FakeSlack, user: str) -> int:
    """Escalation DMs to `user` plus channel escalation posts that mention them."""
    channel = [t for t in nudges(fake) if "not acknowledged after" in t and "@bob" in t]
    return len(escalations_to(fake, user)) + len(channel)


def test_switching_escalate_from_channel_to_dm_does_not_ping_the_manager_again(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/rolecall", "escalation 4", BOB)
    command(slack, fake, "/rolecall", "escalate channel", BOB)
    clock.now = utc(12, 1, 9)
    command(slack, fake, "/blocker", "Staging is down", CAROL)
    tick(ticker, clock, utc(12, 1, 13, 5))  # posted in #launch, mentioning Bob
    assert pings(fake, BOB) == 1
    command(slack, fake, "/rolecall", "escalate dm", BOB)
    tick(ticker, clock, utc(12, 1, 14))
    assert pings(fake, BOB) == 1


def test_switching_escalate_from_dm_to_channel_does_not_ping_the_manager_again(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/rolecall", "escalation 4", BOB)
    clock.now = utc(12, 1, 9)
    command(slack, fake, "/blocker", "Staging is down", CAROL)
    tick(ticker, clock, utc(12, 1, 13, 5))  # DM to Bob
    assert pings(fake, BOB) == 1
    command(slack, fake, "/rolecall", "escalate channel", BOB)
    tick(ticker, clock, utc(12, 1, 14))
    assert pings(fake, BOB) == 1


def test_a_far_zone_manager_hears_of_a_friday_escalation_on_their_monday(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    """Bob (UTC) gets it on Friday at 13:05 UTC; Erin (Tokyo, 22:05 there) gets it at her
    next working morning, Monday 09:00 in Tokyo, although the blocker was escalated days
    before (`ESCALATED` leaves it in the plan that long)."""
    fake.users[ERIN]["tz"] = "Asia/Tokyo"
    set_up_team(slack, fake)
    command(slack, fake, "/role", f"<@{ERIN}|erin> project", ALICE)
    command(slack, fake, "/rolecall", "escalation 4", BOB)
    clock.now = utc(12, 4, 9)  # Friday
    command(slack, fake, "/blocker", "Staging is down", CAROL)
    tick(ticker, clock, utc(12, 4, 13, 5))
    assert len(escalations_to(fake, BOB)) == 1
    assert escalations_to(fake, ERIN) == []  # 22:05 in Tokyo: waits, rightly
    for hour in range(0, 24):
        tick(ticker, clock, utc(12, 7, hour, 5))  # all of Monday (Tokyo's Mon 09:00 = 00:00 UTC)
    assert len(escalations_to(fake, ERIN)) == 1


def test_the_founder_fallback_waits_for_the_founders_own_morning(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    """All project managers away: the escalation goes to the founder (Alice, who gave the first
    role), at her own morning in Los Angeles, not the team's 09:00 in Berlin (her midnight)."""
    fake.users[ALICE]["tz"] = "America/Los_Angeles"
    set_up_team(slack, fake)
    command(slack, fake, "/rolecall", "timezone Europe/Berlin", BOB)
    command(slack, fake, "/rolecall", "escalation 1", BOB)
    command(slack, fake, "/rolecall", "away 2026-12-01 2026-12-04", BOB)
    clock.now = utc(12, 1, 15)  # 16:00 Berlin
    command(slack, fake, "/blocker", "Staging is down", CAROL)
    tick(ticker, clock, utc(12, 2, 8, 5))  # Wed 09:05 Berlin = Wed 00:05 in Los Angeles
    assert escalations_to(fake, ALICE) == []
    tick(ticker, clock, utc(12, 2, 17, 5))  # 09:05 in Los Angeles
    assert len(escalations_to(fake, ALICE)) == 1
    assert escalations_to(fake, BOB) == []  # away


def test_managers_hear_once_then_a_week_later() -> None:
    """slip_promise: "the project managers once, then weekly". Due Tue 1 Dec."""
    work = WorkingTime(tz=ZoneInfo("UTC"))
    due = date(2026, 12, 1)
    days = [due + timedelta(d) for d in range(1, 22)]
    sent = [d for d in days if is_nudge_day(due, d, work, MANAGER_DAILY_DAYS) and d > due]
    assert sent == [date(2026, 12, 2), date(2026, 12, 8), date(2026, 12, 15), date(2026, 12, 22)]


def test_the_promised_day_before_nudge_comes_before_a_long_break(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    """Holidays 21 Dec - 1 Jan; a deadline due Mon 4 Jan 2027: the confirmation promises a
    reminder on Fri 18 Dec, and it comes then."""
    set_up_team(slack, fake)
    day = date(2026, 12, 21)
    while day <= date(2027, 1, 1):
        command(slack, fake, "/rolecall", f"holiday add {day.isoformat()}", BOB)
        day += timedelta(days=1)
    reply = command(slack, fake, "/deadline", f"Ship it 2027-01-04 <@{CAROL}>", BOB)
    assert "Fri 18 Dec 2026" in reply  # the promise
    for hour in (9, 12, 16):
        tick(ticker, clock, utc(12, 18, hour))
    assert any("Ship it" in t and "due" in t for t in dm_texts(fake, CAROL)[1:])


def test_a_manager_ahead_of_the_assignee_is_not_told_it_slipped_on_its_day(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    """The date is the assignee's: a manager whose day is ahead hears once theirs is over."""
    fake.users[CAROL]["tz"] = "America/Los_Angeles"
    fake.users[BOB]["tz"] = "Asia/Tokyo"
    set_up_team(slack, fake)
    command(slack, fake, "/deadline", f"Write the launch post 2026-12-02 <@{CAROL}>", BOB)
    # Thu 3 Dec 09:05 in Tokyo = Wed 2 Dec 16:05 in Los Angeles: Carol's due day, still open.
    tick(ticker, clock, utc(12, 3, 0, 5))
    overdue = [t for t in dm_texts(fake, BOB) if "overdue" in t]
    assert overdue == [], overdue
