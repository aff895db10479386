"""Nudges and escalations at chosen instants: when they go out, to whom, once, across DST."""

from datetime import datetime, timedelta

import pytest

from bot.tick import Ticker
from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient
from tests.conftest import BOB, CAROL, ERIN, FixedClock
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


def test_milestone_nudges_day_before_on_the_day_and_overdue_then_stop(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/rolecall", "timezone Europe/Berlin", BOB)
    command(slack, fake, "/milestone", "add Beta 2026-12-02", BOB)

    for at in [utc(12, 1, 7, 59), utc(12, 1, 8), utc(12, 1, 8, 1), utc(12, 1, 20)]:
        tick(ticker, clock, at)  # 09:00 Berlin is 08:00 UTC in winter
    assert nudges(fake) == [":calendar: Milestone *Beta* is due tomorrow (Wed 2 Dec 2026)"]
    tick(ticker, clock, utc(12, 2, 8))
    tick(ticker, clock, utc(12, 4, 8))
    assert nudges(fake)[1:] == [
        ":alarm_clock: Milestone *Beta* is due today",
        ":rotating_light: Milestone *Beta* is 2 days overdue (was due Wed 2 Dec 2026) · @bob, "
        "please re-plan or close it (`/milestone done`).",
    ]
    command(slack, fake, "/milestone", "done Beta", BOB)
    tick(ticker, clock, utc(12, 5, 8))
    assert len(nudges(fake)) == 3


def test_after_downtime_one_late_nudge_and_no_stale_ones(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/milestone", "add Beta 2026-12-02", BOB)

    tick(ticker, clock, utc(12, 5, 15))  # down since Monday morning
    tick(ticker, clock, utc(12, 5, 15, 1))

    assert nudges(fake) == [
        ":rotating_light: Milestone *Beta* is 3 days overdue (was due Wed 2 Dec 2026) · @bob, "
        "please re-plan or close it (`/milestone done`)."
    ]


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
    ("zone", "due", "start"),
    [
        ("America/New_York", (2027, 3, 15), utc(3, 12, year=2027)),  # spring-forward on 14 Mar
        ("Australia/Sydney", (2027, 4, 5), utc(4, 2, year=2027)),  # fall-back on 4 Apr
    ],
)
def test_ticking_every_half_hour_across_dst_posts_each_nudge_once_at_nine_local(
    slack: SignedClient,
    fake: FakeSlack,
    ticker: Ticker,
    clock: FixedClock,
    zone: str,
    due: tuple[int, int, int],
    start: datetime,
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/rolecall", f"timezone {zone}", BOB)
    command(slack, fake, "/milestone", f"add Launch {datetime(*due):%Y-%m-%d}", BOB)

    posted_at: list[datetime] = []
    at = start
    while at < start + timedelta(days=6):
        before = len(nudges(fake))
        tick(ticker, clock, at)
        posted_at += [at] * (len(nudges(fake)) - before)
        at += timedelta(minutes=30)

    from zoneinfo import ZoneInfo

    local = [p.astimezone(ZoneInfo(zone)) for p in posted_at]
    assert [(t.day, t.hour, t.minute) for t in local] == [
        (due[2] + offset, 9, 0) for offset in (-1, 0, 1, 2, 3)
    ][: len(local)]
    assert len(local) >= 4


def test_deadline_nudges_reach_the_assignee_at_nine_their_time_then_the_project_manager(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    fake.users[CAROL]["tz"] = "America/New_York"
    set_up_team(slack, fake)
    reply = command(slack, fake, "/deadline", f"Write the launch post 2026-12-01 <@{CAROL}>", BOB)
    assert reply == (
        "Deadline `1` *Write the launch post* set for @carol on Tue 1 Dec 2026. I'll remind them "
        "by DM the day before and on the day (09:00 their time)."
    )

    fake.wait_for(lambda: len(dm_texts(fake, CAROL)) == 1)
    assert dm_texts(fake, CAROL) == [
        "@bob set you a deadline in #launch: *Write the launch post*, due Tue 1 Dec 2026. "
        "I'll remind you the day before and on the day."
    ]
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
        "(was due Tue 1 Dec 2026). `/deadline done 1` when it's finished.",
    ]
    assert [t for t in dm_texts(fake, BOB) if "deadline" in t] == [
        ":rotating_light: @carol's deadline *Write the launch post* in #launch is 1 day overdue "
        "(was due Tue 1 Dec 2026)."
    ]
    assert command(slack, fake, "/deadline", "done 1", CAROL) == (
        "Deadline *Write the launch post* is done. :white_check_mark:"
    )
    tick(ticker, clock, utc(12, 3, 14))
    assert len(dm_texts(fake, CAROL)) == 4


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

    tick(ticker, clock, utc(11, 30, 14, 59))  # weekend hours do not count
    assert nudges(fake) == []
    tick(ticker, clock, utc(11, 30, 15))
    tick(ticker, clock, utc(12, 1, 15))

    expected = (
        ":rotating_light: @bob: blocker *#1* from @carol has waited 24 working hours without "
        "being acknowledged\n>Staging is down"
    )
    assert nudges(fake) == [expected]
    assert [t for t in dm_texts(fake, BOB) if t.startswith(":rotating_light:")] == [expected]


def test_the_escalation_threshold_is_a_team_setting(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    assert "escalate after 4 working hours" in command(
        slack, fake, "/rolecall", "escalation 4", BOB
    )
    command(slack, fake, "/blocker", "Staging is down", CAROL)

    tick(ticker, clock, utc(11, 30, 11, 59))
    assert nudges(fake) == []
    tick(ticker, clock, utc(11, 30, 12))
    assert "has waited 4 working hours" in nudges(fake)[0]
