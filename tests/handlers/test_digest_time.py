"""When the weekly digest is posted and what period it covers: the seven local days before its
day, on the team's working days and hours only, and not at all (or as one line) for a team with
nothing to say — each digest still posted, or settled, exactly once."""

from datetime import timedelta

from bot.tick import Ticker
from handlers.services import Services
from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient
from tests.conftest import ALICE, BOB, CAROL, FixedClock
from tests.handlers.scenario import (
    command,
    digests,
    file_some,
    posts,
    rendered,
    set_up_team,
    thread,
    tick,
    utc,
)

LAST_WEEK = "30 Nov \N{EN DASH} 6 Dec"  # the period of the digest due Monday 7 Dec
QUIET = "A quiet week in #launch: nothing new and nothing open."


def titles(fake: FakeSlack) -> list[str]:
    return [rendered(fake, p).splitlines()[0] for p in digests(fake)]


def test_the_period_is_the_seven_local_days_before_the_digest_day(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    clock.now = utc(11, 29, 20)
    set_up_team(slack, fake)
    command(slack, fake, "/digest", "schedule monday 09:00 Europe/Berlin", BOB)
    # Berlin is UTC+1: its Monday 30 Nov starts at 23:00 UTC on Sunday.
    for at, wish in [
        (utc(11, 29, 22, 59), "Sunday 23:59 in Berlin: the week before"),
        (utc(11, 29, 23), "Monday 00:00: the first minute"),
        (utc(12, 6, 22, 59), "Sunday 23:59: the last minute"),
        (utc(12, 6, 23), "Monday 7 Dec 00:00: the week after"),
    ]:
        clock.now = at
        command(slack, fake, "/feedback", wish, CAROL)

    tick(ticker, clock, utc(12, 7, 8))  # Monday 09:00 in Berlin

    assert titles(fake) == [f"Weekly digest — {LAST_WEEK}"]
    product = rendered(fake, thread(fake, digests(fake)[0])[0])
    assert f"*Feedback filed {LAST_WEEK}: 2* (2 open)" in product
    assert "*Waiting for triage longest* (4 open)" in product  # open: whenever filed


def test_a_digest_due_on_a_holiday_waits_for_the_next_working_morning(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    file_some(slack, fake)
    command(slack, fake, "/rolecall", "holiday add 2026-12-07 Company day", ALICE)

    for at in (utc(12, 7, 9), utc(12, 7, 12), utc(12, 8, 8, 59)):
        tick(ticker, clock, at)
        assert digests(fake) == [], at
    tick(ticker, clock, utc(12, 8, 9))  # Tuesday, the team's next opening
    tick(ticker, clock, utc(12, 8, 9, 1))

    assert titles(fake) == [f"Weekly digest — {LAST_WEEK}"]  # still the week before Monday
    assert len(thread(fake, digests(fake)[0])) == 2


def test_a_runner_down_all_day_posts_at_the_next_opening_not_at_night(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    file_some(slack, fake)

    tick(ticker, clock, utc(12, 7, 22))  # the first tick since the Monday 09:00 slot
    assert digests(fake) == []
    tick(ticker, clock, utc(12, 8, 9))
    tick(ticker, clock, utc(12, 8, 10))

    assert titles(fake) == [f"Weekly digest — {LAST_WEEK}"]


def test_a_digest_scheduled_on_a_saturday_is_posted_on_monday_morning(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/digest", "schedule saturday 10:00 UTC", BOB)
    file_some(slack, fake)

    for at in (utc(12, 5, 10), utc(12, 6, 10), utc(12, 7, 8, 59)):
        tick(ticker, clock, at)
        assert digests(fake) == [], at
    tick(ticker, clock, utc(12, 7, 9))
    tick(ticker, clock, utc(12, 7, 9, 1))

    assert titles(fake) == ["Weekly digest — 28 Nov \N{EN DASH} 4 Dec"]  # before Saturday


def test_a_team_with_nothing_to_say_gets_no_digest_and_owes_none(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock, services: Services
) -> None:
    set_up_team(slack, fake)

    for at in (utc(12, 7, 9), utc(12, 7, 9, 1), utc(12, 7, 12)):
        tick(ticker, clock, at)
    assert posts(fake) == []
    assert services.digests.due(utc(12, 7, 12, 1)) == []  # settled: no later run retries it

    # A milestone due within 14 days is something to say.
    command(slack, fake, "/milestone", "add Beta 2026-12-20", BOB)
    tick(ticker, clock, utc(12, 14, 9))
    assert titles(fake) == ["Weekly digest — 7 \N{EN DASH} 13 Dec"]
    project = rendered(fake, thread(fake, digests(fake)[0])[1])
    assert "*Milestones due in the next 14 days*\n• *Beta* — Sun 20 Dec 2026" in project


def test_a_quiet_week_can_be_one_line_instead(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock, services: Services
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/rolecall", "quiet-week post", BOB)

    tick(ticker, clock, utc(12, 7, 9))
    tick(ticker, clock, utc(12, 7, 9, 1))

    [line] = posts(fake)
    assert rendered(fake, line) == QUIET
    assert thread(fake, line) == []
    assert services.digests.due(utc(12, 7, 9, 2)) == []


def test_a_digest_held_back_by_a_shutdown_week_comes_before_the_next_one(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    """Holidays Mon 21 - Fri 25 Dec: the digest of 14 - 20 Dec waits for Mon 28 Dec, and is
    posted there before the (quiet) one of 21 - 27 Dec; a runner merely down posts only the
    latest (above)."""
    set_up_team(slack, fake)
    for day in range(21, 26):
        command(slack, fake, "/rolecall", f"holiday add 2026-12-{day}", ALICE)
    clock.now = utc(12, 16, 10)
    command(slack, fake, "/feedback", "SSO for Acme", CAROL)
    at = utc(12, 21, 0)
    while at <= utc(12, 28, 12):
        tick(ticker, clock, at)
        at += timedelta(hours=1)

    assert titles(fake)[0] == "Weekly digest — 14 \N{EN DASH} 20 Dec"
    assert [p["ts"] for p in digests(fake)] == sorted(p["ts"] for p in digests(fake))
