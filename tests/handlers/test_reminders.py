"""Nudges and escalations through ticks at chosen instants against the fake Slack: only in
working time (the team's, or the recipient's own), to whom, once, across DST."""

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.tick import Ticker
from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient
from tests.conftest import ALICE, BOB, CAROL, ERIN, TEAM, FixedClock
from tests.handlers.scenario import (
    cards,
    command,
    dm_texts,
    item_id,
    nudges,
    posts,
    rendered,
    set_up_team,
    tick,
    utc,
)

HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Heard:
    """One message a tick posted: when, where (the channel, or the person for a DM), what."""

    at: datetime
    where: str
    text: str


def _bot_messages(fake: FakeSlack, digests: bool) -> dict[tuple[str, str], str]:
    found: dict[tuple[str, str], str] = {}
    for channel, messages in list(fake.messages.items()):
        for m in messages:
            is_digest = bool(m.get("thread_ts")) or m["text"].startswith("Weekly digest")
            if m["user"] == fake.bot_user_id and (digests or not is_digest):
                where = "U" + channel[1:] if channel.startswith("D") else channel
                found[(where, m["ts"])] = rendered(fake, m)
    return found


def run(
    ticker: Ticker,
    clock: FixedClock,
    fake: FakeSlack,
    start: datetime,
    end: datetime,
    step: timedelta,
    digests: bool = False,
) -> list[Heard]:
    """Tick from `start` to `end` (exclusive) every `step`; what each tick posted (the digest
    thread too, if asked)."""
    heard: list[Heard] = []
    at = start
    while at < end:
        before = _bot_messages(fake, digests)
        tick(ticker, clock, at)
        heard += [
            Heard(at, where, text)
            for (where, ts), text in _bot_messages(fake, digests).items()
            if (where, ts) not in before
        ]
        at += step
    return heard


def escalations(fake: FakeSlack, user: str) -> list[str]:
    """The escalations in a person's DMs, one each (one message holds all of a run's)."""
    return [
        found
        for text in dm_texts(fake, user)
        for found in re.findall(r"blocker \*#\d+\* from @\w+ is not acknowledged after .*", text)
    ]


def add_pm(slack: SignedClient, fake: FakeSlack, user: str, name: str) -> None:
    command(slack, fake, "/role", f"<@{user}|{name}> project", ALICE)


# Milestones ---------------------------------------------------------------------------------


def test_a_milestone_is_nudged_in_the_channel_then_overdue_by_dm_to_its_owner_and_pm(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/rolecall", "timezone Europe/Berlin", BOB)
    fake.users[ERIN]["tz"] = "Europe/Berlin"
    command(slack, fake, "/milestone", f"add Beta 2026-12-02 <@{ERIN}|erin>", BOB)

    for at in [utc(12, 1, 7, 59), utc(12, 1, 8), utc(12, 1, 8, 1), utc(12, 1, 20)]:
        tick(ticker, clock, at)  # 09:00 Berlin is 08:00 UTC in winter
    assert nudges(fake) == [":calendar: Milestone *Beta* is due tomorrow (Wed 2 Dec 2026)"]
    tick(ticker, clock, utc(12, 2, 8))
    assert nudges(fake)[1:] == [":alarm_clock: Milestone *Beta* is due today"]

    tick(ticker, clock, utc(12, 3, 8))  # Thursday 09:00 Berlin: Erin's morning
    overdue = (
        ":rotating_light: Milestone *Beta* in #launch is 1 day overdue (was due Wed 2 Dec 2026)."
        " Re-plan it (`/milestone move`) or close it (`/milestone done`).\n"
        "[Snooze 1 day] [Snooze until Monday] [Mute]"
    )
    assert dm_texts(fake, ERIN) == [overdue]
    assert len(nudges(fake)) == 2  # overdue is not said in the channel, nobody is mentioned
    tick(ticker, clock, utc(12, 3, 9))  # 09:00 UTC: Bob's morning
    assert [t for t in dm_texts(fake, BOB) if "Beta" in t] == [overdue]

    command(slack, fake, "/milestone", "done Beta", BOB)
    tick(ticker, clock, utc(12, 4, 10))
    assert len(nudges(fake)) == 2 and len(dm_texts(fake, ERIN)) == 1


def test_after_downtime_the_due_day_says_due_today_and_nothing_stale_follows(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/milestone", "add Beta 2026-12-02", BOB)

    tick(ticker, clock, utc(12, 2, 15))  # down since Monday: Tuesday's "due tomorrow" is gone
    tick(ticker, clock, utc(12, 2, 15, 1))
    assert nudges(fake) == [":alarm_clock: Milestone *Beta* is due today"]


def test_after_a_long_downtime_one_overdue_reminder_counted_on_the_day_it_is_read(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/milestone", "add Beta 2026-12-02", BOB)

    heard = run(ticker, clock, fake, utc(12, 5, 12), utc(12, 7, 17), HOUR)  # back on Saturday

    assert [(h.at, h.where) for h in heard] == [(utc(12, 7, 9), BOB)]  # Monday, 09:00
    assert heard[0].text.startswith(
        ":rotating_light: Milestone *Beta* in #launch is 5 days overdue (was due Wed 2 Dec 2026)."
    )
    assert nudges(fake) == []


def test_moving_a_milestone_cancels_its_pending_nudges(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/milestone", "add Beta 2026-12-02", BOB)
    clock.now = utc(12, 1, 7)
    command(slack, fake, "/milestone", "move Beta 2026-12-08", BOB)

    for day in range(1, 8):
        tick(ticker, clock, utc(12, day, 9))

    assert nudges(fake) == [":calendar: Milestone *Beta* is due tomorrow (Tue 8 Dec 2026)"]


def test_everything_due_in_one_channel_goes_out_as_one_message(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    for name in ("Alpha", "Beta", "Gamma"):
        command(slack, fake, "/milestone", f"add {name} 2026-12-01", BOB)

    tick(ticker, clock, utc(11, 30, 9))

    [post] = [p for p in posts(fake) if "Weekly digest" not in p["text"]]
    assert post["text"] == "3 reminders for <#CLAUNCH>"
    assert rendered(fake, post).splitlines() == [
        f":calendar: Milestone *{name}* is due tomorrow (Tue 1 Dec 2026)"
        for name in ("Alpha", "Beta", "Gamma")
    ]


@pytest.mark.parametrize(
    ("zone", "due", "start", "end"),
    [
        # Spring-forward on Sun 14 Mar; Thu 11 Mar 07:00 to Wed 17 Mar 20:00 local.
        ("America/New_York", "2027-03-15", utc(3, 11, 12, year=2027), utc(3, 18, year=2027)),
        # Fall-back on Sun 4 Apr; Thu 1 Apr 23:00 to Wed 7 Apr 22:00 local.
        ("Australia/Sydney", "2027-04-05", utc(4, 1, 12, year=2027), utc(4, 7, 12, year=2027)),
    ],
)
def test_ticking_every_half_hour_across_dst_posts_each_nudge_once_at_nine_local(
    slack: SignedClient,
    fake: FakeSlack,
    ticker: Ticker,
    clock: FixedClock,
    zone: str,
    due: str,
    start: datetime,
    end: datetime,
) -> None:
    """Due on the Monday after the change: Friday's "due Mon" (old offset) and Monday's "due
    today" (new offset) in the channel, then the overdue DMs to the project manager in the
    same zone, each at 09:00 local."""
    fake.users[BOB]["tz"] = zone
    set_up_team(slack, fake)
    command(slack, fake, "/rolecall", f"timezone {zone}", BOB)
    command(slack, fake, "/milestone", f"add Launch {due}", BOB)

    heard = run(ticker, clock, fake, start, end, timedelta(minutes=30))

    local = [(h.where, h.at.astimezone(ZoneInfo(zone))) for h in heard if "Launch" in h.text]
    assert [(where, t.strftime("%a %H:%M")) for where, t in local] == [
        (TEAM, "Fri 09:00"),
        (TEAM, "Mon 09:00"),
        (BOB, "Tue 09:00"),
        (BOB, "Wed 09:00"),
    ]
    offsets = {t.utcoffset() for _, t in local}
    assert len(offsets) == 2  # both sides of the change


# Deadlines ----------------------------------------------------------------------------------


def test_deadline_nudges_reach_the_assignee_at_nine_their_time_then_the_project_manager(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    fake.users[CAROL]["tz"] = "America/New_York"
    set_up_team(slack, fake)
    command(slack, fake, "/deadline", f"Write the launch post 2026-12-01 <@{CAROL}>", BOB)
    fake.wait_for(lambda: len(dm_texts(fake, CAROL)) == 1)

    tick(ticker, clock, utc(11, 30, 13, 59))  # 08:59 in New York
    assert len(dm_texts(fake, CAROL)) == 1
    tick(ticker, clock, utc(11, 30, 14))
    tick(ticker, clock, utc(12, 1, 14))
    tick(ticker, clock, utc(12, 2, 14))

    assert dm_texts(fake, CAROL)[1:] == [
        ":calendar: Your deadline *Write the launch post* in #launch is due tomorrow "
        "(Tue 1 Dec 2026). `/deadline done 1` when it's finished.",
        ":alarm_clock: Your deadline *Write the launch post* in #launch is due today. "
        "`/deadline done 1` when it's finished.",
        ":rotating_light: Your deadline *Write the launch post* in #launch is 1 day overdue "
        "(was due Tue 1 Dec 2026). `/deadline done 1` when it's finished.\n"
        "[Snooze 1 day] [Snooze until Monday] [Mute]",
    ]
    assert [t for t in dm_texts(fake, BOB) if "deadline" in t] == [
        ":rotating_light: @carol's deadline *Write the launch post* in #launch is 1 day overdue "
        "(was due Tue 1 Dec 2026).\n[Snooze 1 day] [Snooze until Monday] [Mute]"
    ]
    assert command(slack, fake, "/deadline", "done 1", CAROL) == (
        "Deadline *Write the launch post* is done. :white_check_mark:"
    )
    tick(ticker, clock, utc(12, 3, 14))
    assert len(dm_texts(fake, CAROL)) == 4


def test_overdue_reminders_come_daily_for_a_week_then_weekly(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    """Over 30 days, ticking hourly: Carol (New York) hears on the working days up to a week
    late, then weekly; Bob, the project manager, once when it slips, then weekly; every DM at
    09:00 in the reader's zone, on a working day."""
    fake.users[CAROL]["tz"] = "America/New_York"
    set_up_team(slack, fake)
    command(slack, fake, "/deadline", f"Write the launch post 2026-12-01 <@{CAROL}>", BOB)

    heard = run(ticker, clock, fake, utc(11, 30, 9), utc(12, 30, 9), HOUR)

    def days(user: str, tz: str) -> list[str]:
        local = [h.at.astimezone(ZoneInfo(tz)) for h in heard if h.where == user]
        assert all(t.time() == time(9) and t.weekday() < 5 for t in local), local
        return [t.strftime("%a %d") for t in local]

    assert days(CAROL, "America/New_York") == [
        "Mon 30",  # due tomorrow
        "Tue 01",  # due today
        *("Wed 02", "Thu 03", "Fri 04", "Mon 07", "Tue 08"),  # 1 to 7 days overdue
        *("Tue 15", "Tue 22", "Tue 29"),  # then weekly
    ]
    assert days(BOB, "UTC") == ["Wed 02", "Tue 08", "Tue 15", "Tue 22", "Tue 29"]
    assert "is 28 days overdue" in next(h.text for h in reversed(heard) if h.where == CAROL)
    assert {h.where for h in heard} == {CAROL, BOB}  # a deadline is nobody else's business


def test_an_away_assignees_reminders_wait_until_they_are_back(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/deadline", f"Write the launch post 2026-12-01 <@{CAROL}>", BOB)
    command(slack, fake, "/rolecall", "away 2026-12-01 2026-12-02", CAROL)

    heard = run(ticker, clock, fake, utc(11, 30, 9), utc(12, 4, 9), HOUR)

    stage = re.compile(r"is (due \w+|\d+ days? overdue)")
    mine = [(h.at, stage.findall(h.text)) for h in heard if h.where == CAROL]
    assert mine == [(utc(11, 30, 9), ["due tomorrow"]), (utc(12, 3, 9), ["2 days overdue"])]


# Escalations --------------------------------------------------------------------------------


def test_an_unacknowledged_blocker_escalates_once_after_24_working_hours(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    clock.now = utc(11, 27, 15)  # Friday afternoon
    command(slack, fake, "/blocker", "Staging is down", CAROL)
    command(slack, fake, "/blocker", "No design for the empty state", ERIN)
    fake.wait_for(lambda: len(cards(fake, BOB)) == 2)
    card = cards(fake, BOB)[1]
    slack.click(BOB, fake.dm_channel(BOB), card["ts"], "item_acknowledge", item_id(card))
    fake.wait_for(lambda: len(fake.calls_to("chat.update")) == 1)

    # Friday 2 h, Monday 8, Tuesday 8, Wednesday 6: nights and the weekend do not count.
    tick(ticker, clock, utc(12, 2, 14, 59))
    assert escalations(fake, BOB) == []
    tick(ticker, clock, utc(12, 2, 15))
    tick(ticker, clock, utc(12, 3, 15))

    assert [t for t in dm_texts(fake, BOB) if "is not acknowledged" in t] == [
        ":rotating_light: blocker *#1* from @carol is not acknowledged after 24 working hours"
        "\n>Staging is down"
    ]
    assert nudges(fake) == []  # by DM, not also in the channel


def test_the_escalation_threshold_is_a_team_setting_counted_from_the_mornings_opening(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    assert "escalate after 4 working hours" in command(
        slack, fake, "/rolecall", "escalation 4", BOB
    )
    clock.now = utc(11, 30, 4, 50)  # before the team's day: it counts from 09:00
    command(slack, fake, "/blocker", "Staging is down", CAROL)

    tick(ticker, clock, utc(11, 30, 12, 59))
    assert escalations(fake, BOB) == []
    tick(ticker, clock, utc(11, 30, 13))
    [escalation] = escalations(fake, BOB)
    assert "not acknowledged after 4 working hours" in escalation


def test_an_escalation_dm_waits_for_the_recipients_morning(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    fake.users[BOB]["tz"] = "America/Los_Angeles"  # 09:00 there is 17:00 UTC
    set_up_team(slack, fake)
    command(slack, fake, "/rolecall", "escalation 4", BOB)
    clock.now = utc(11, 30, 9)
    command(slack, fake, "/blocker", "Staging is down", CAROL)  # due 13:00 UTC

    heard = run(ticker, clock, fake, utc(11, 30, 13), utc(12, 1, 13), timedelta(minutes=30))

    assert [(h.at, h.where) for h in heard] == [(utc(11, 30, 17), BOB)]


def test_while_a_project_manager_is_away_the_other_one_hears_and_they_never_do(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    add_pm(slack, fake, ERIN, "erin")
    command(slack, fake, "/rolecall", "escalation 4", BOB)
    command(slack, fake, "/rolecall", "away 2026-11-30 2026-12-04", BOB)
    clock.now = utc(11, 30, 9)
    command(slack, fake, "/blocker", "Staging is down", CAROL)

    heard = run(ticker, clock, fake, utc(11, 30, 9), utc(12, 8, 17), HOUR)

    assert [(h.at, h.where) for h in heard if "is not acknowledged" in h.text] == [
        (utc(11, 30, 13), ERIN)
    ]
    assert escalations(fake, ALICE) == []


def test_when_every_project_manager_is_away_the_founder_hears(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)  # Alice gave the first role: she set the team up
    command(slack, fake, "/rolecall", "escalation 4", BOB)
    command(slack, fake, "/rolecall", "away 2026-11-30", BOB)
    clock.now = utc(11, 30, 9)
    command(slack, fake, "/blocker", "Staging is down", CAROL)

    tick(ticker, clock, utc(11, 30, 13))
    tick(ticker, clock, utc(11, 30, 16))

    assert escalations(fake, ALICE) == [
        "blocker *#1* from @carol is not acknowledged after 4 working hours"
    ]
    assert escalations(fake, BOB) == []


def test_nobody_is_escalated_about_a_blocker_they_filed(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    add_pm(slack, fake, ERIN, "erin")
    command(slack, fake, "/rolecall", "escalation 4", BOB)
    clock.now = utc(11, 30, 9)
    command(slack, fake, "/blocker", "Staging is down", BOB)  # a project manager's own
    command(slack, fake, "/blocker", "No test data", ALICE)  # the founder's own

    tick(ticker, clock, utc(11, 30, 13))

    assert [e.split(" is not")[0] for e in escalations(fake, BOB)] == ["blocker *#2* from @alice"]
    assert [e.split(" is not")[0] for e in escalations(fake, ERIN)] == [
        "blocker *#1* from @bob",
        "blocker *#2* from @alice",
    ]
    assert escalations(fake, ALICE) == []


def test_the_only_project_managers_own_blocker_goes_to_whoever_set_the_team_up(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/rolecall", "escalation 4", BOB)
    clock.now = utc(11, 30, 9)
    command(slack, fake, "/blocker", "Staging is down", BOB)

    heard = run(ticker, clock, fake, utc(11, 30, 9), utc(12, 2, 9), HOUR)

    assert [(h.at, h.where) for h in heard] == [(utc(11, 30, 13), ALICE)]
    assert escalations(fake, BOB) == []


def test_a_founder_who_is_the_only_project_manager_hears_nothing_of_her_own_blocker(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    command(slack, fake, "/role", f"<@{ALICE}|alice> project", ALICE)  # founder and only PM
    command(slack, fake, "/rolecall", "escalation 4", ALICE)
    clock.now = utc(11, 30, 9)
    command(slack, fake, "/blocker", "Staging is down", ALICE)

    heard = run(ticker, clock, fake, utc(11, 30, 9), utc(12, 2, 9), HOUR)

    assert [h for h in heard if "is not acknowledged" in h.text] == []


@pytest.mark.parametrize("away", [False, True])
def test_a_founder_holding_both_roles_gets_one_message_per_escalation(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock, away: bool
) -> None:
    """Alice set the team up and is its product and project manager. Away or not, she hears of
    Carol's blocker once: as a project manager, or (away) as the founder when she is back."""
    command(slack, fake, "/role", f"<@{ALICE}|alice> product", ALICE)
    command(slack, fake, "/role", f"<@{ALICE}|alice> project", ALICE)
    command(slack, fake, "/rolecall", "escalation 4", ALICE)
    if away:
        command(slack, fake, "/rolecall", "away 2026-11-30 2026-12-01", ALICE)
    clock.now = utc(11, 30, 9)
    command(slack, fake, "/blocker", "Staging is down", CAROL)

    heard = run(ticker, clock, fake, utc(11, 30, 9), utc(12, 4, 9), HOUR)

    escalated = [(h.at, h.where) for h in heard if "is not acknowledged" in h.text]
    assert escalated == [(utc(12, 2, 9) if away else utc(11, 30, 13), ALICE)]
    assert nudges(fake) == []


def test_escalate_by_channel_posts_once_mentioning_them_and_sends_no_dm(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    add_pm(slack, fake, ERIN, "erin")
    command(slack, fake, "/rolecall", "escalation 4", BOB)
    command(slack, fake, "/rolecall", "escalate channel", BOB)
    clock.now = utc(11, 30, 9)
    command(slack, fake, "/blocker", "Staging is down", CAROL)

    heard = run(ticker, clock, fake, utc(11, 30, 9), utc(12, 3, 9), HOUR)

    assert [(h.at, h.where, h.text) for h in heard] == [
        (
            utc(11, 30, 13),
            TEAM,
            ":rotating_light: @bob, @erin: blocker *#1* from @carol is not acknowledged after "
            "4 working hours\n>Staging is down",
        )
    ]


# Quiet by construction ----------------------------------------------------------------------


def test_nothing_is_posted_on_weekends_holidays_or_outside_working_hours(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    """Two weeks of hourly ticks with a milestone, a deadline and a blocker going stale around
    a team holiday: every tick that posts is inside 09:00-17:00 on a working day."""
    fake.users[CAROL]["tz"] = "Asia/Tokyo"
    set_up_team(slack, fake)
    command(slack, fake, "/rolecall", "holiday add 2026-12-03 Founders' day", BOB)
    command(slack, fake, "/milestone", f"add Beta 2026-12-04 <@{ERIN}|erin>", BOB)
    command(slack, fake, "/deadline", f"Spec 2026-12-02 <@{CAROL}>", BOB)
    command(slack, fake, "/blocker", "Staging is down", ERIN)

    heard = run(ticker, clock, fake, utc(11, 30, 0, 30), utc(12, 14), HOUR, digests=True)

    for h in heard:
        local = h.at.astimezone(ZoneInfo("Asia/Tokyo" if h.where == CAROL else "UTC"))
        assert local.weekday() < 5 and time(9) <= local.time() < time(17), h
        assert local.date() != utc(12, 3).date(), h
    assert {h.where for h in heard} == {TEAM, BOB, CAROL, ERIN}
    # Beta, due Friday: its "day before" moved off Thursday's holiday to Wednesday.
    assert [n.splitlines()[0] for n in nudges(fake) if "Beta" in n] == [
        ":calendar: Milestone *Beta* is due Fri 4 Dec 2026",
        ":alarm_clock: Milestone *Beta* is due today",
    ]
