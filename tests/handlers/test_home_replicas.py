"""App Home with several processes on one database (replicas, `--workers`, a restart): the
process that handles a change refreshes the person's Home, whichever published it, with the
filters the person chose, and a burst of changes spread over processes publishes it once at
once and once when the window ends. Two apps in this process, on one database and one fake
Slack, driven by signed requests; each app's deferred refreshes are kept until the test runs
them, after moving the clock."""

import json
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest

from bot.blocks.home import Section
from bot.home import REFRESH_SECONDS
from handlers.runtime import build_runtime
from handlers.settings import Settings
from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient
from tests.conftest import ALICE, BOB, CAROL, SIGNING_SECRET, FixedClock, in_process
from tests.handlers.scenario import cards, command, set_up_team
from tests.handlers.test_home import (
    file_blockers,
    file_feedback,
    home_click,
    open_home,
    row_buttons,
    rows,
    seen,
    typed_tag,
)

WINDOW = timedelta(seconds=REFRESH_SECONDS)


class App:
    """One process serving Slack: its runtime, a signed client for it, and the refreshes it
    deferred to the end of a window."""

    def __init__(self, settings: Settings, clock: FixedClock, fake: FakeSlack) -> None:
        self.runtime = build_runtime(settings, clock, inline=True, sleep=lambda _: None)
        self.slack = SignedClient(
            "http://rolecall.test/slack/events",
            SIGNING_SECRET,
            fake,
            transport=in_process(self.runtime.endpoint),
        )
        self.deferred: list[Callable[[], None]] = []
        self.runtime.services.home.schedule = lambda _, work: self.deferred.append(work)
        self.closed = False

    def run_deferred(self) -> None:
        due, self.deferred = self.deferred, []
        for work in due:
            work()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.slack.close()
            self.runtime.close()


@pytest.fixture
def apps(settings: Settings, clock: FixedClock, fake: FakeSlack) -> Iterator[Callable[[], App]]:
    """Start an app (a process) on the test's database; each is stopped after the test."""
    started: list[App] = []

    def start() -> App:
        started.append(App(settings, clock, fake))
        return started[-1]

    yield start
    for app in started:
        app.close()


def publishes(fake: FakeSlack, user: str) -> int:
    return sum(1 for call in fake.calls_to("views.publish") if call["user_id"] == user)


def test_a_change_handled_by_another_process_refreshes_the_home(
    apps: Callable[[], App], fake: FakeSlack, clock: FixedClock
) -> None:
    first, second = apps(), apps()
    set_up_team(first.slack, fake)
    (staging,) = file_blockers(first.slack, fake, "Staging is down")
    view = open_home(first.slack, fake, BOB)
    open_home(first.slack, fake, CAROL)  # the reporter's Home lists what she raised
    assert ("item_acknowledge", staging) in row_buttons(view, Section.BLOCKERS, staging)
    clock.now += WINDOW

    # Bob presses Acknowledge in his Home; the second process handles the press.
    second.slack.view_click(BOB, view, "item_acknowledge", staging)

    fake.wait_for(lambda: "acknowledged by @bob" in seen(fake, fake.home_views[BOB]))
    assert rows(fake.home_views[BOB], Section.BLOCKERS) == [staging]
    assert "Blocker · Acknowledged · #launch" in seen(fake, fake.home_views[CAROL])
    assert first.deferred == [] and second.deferred == []


def test_a_burst_of_changes_over_two_processes_publishes_once_now_and_once_later(
    apps: Callable[[], App], fake: FakeSlack, clock: FixedClock
) -> None:
    first, second = apps(), apps()
    set_up_team(first.slack, fake)
    open_home(first.slack, fake, ALICE)
    clock.now += WINDOW
    before = publishes(fake, ALICE)

    for n in range(10):
        app = (first, second)[n % 2]
        command(app.slack, fake, "/feedback", f"Request {n}: export {n * 7} rows", CAROL)
        clock.now += timedelta(seconds=0.3)
    fake.wait_for(lambda: len(cards(fake, ALICE)) == 10)

    assert publishes(fake, ALICE) == before + 1  # the first change, at once
    assert "Product queue: 1 open" in seen(fake, fake.home_views[ALICE])
    assert len(first.deferred) == 1 and len(second.deferred) == 1  # one timer per process
    clock.now += WINDOW
    first.run_deferred()
    second.run_deferred()
    assert publishes(fake, ALICE) == before + 2  # and once the window ended, by one of them
    assert "Product queue: 10 open" in seen(fake, fake.home_views[ALICE])


def test_a_process_that_never_published_the_home_keeps_the_persons_filters(
    apps: Callable[[], App], fake: FakeSlack, clock: FixedClock
) -> None:
    first, second = apps(), apps()
    set_up_team(first.slack, fake)
    file_feedback(first.slack, fake, "SSO for Acme", "The #pricing page confuses buyers")
    action, values = typed_tag(open_home(first.slack, fake, ALICE), "#pricing")
    tagged = home_click(first.slack, fake, ALICE, action, values=values)
    assert len(rows(tagged, Section.NEW)) == 1
    clock.now += WINDOW

    command(second.slack, fake, "/feedback", "Show #pricing per seat", CAROL)

    fake.wait_for(lambda: "Show #pricing per seat" in seen(fake, fake.home_views[ALICE]))
    refreshed = fake.home_views[ALICE]
    assert json.loads(refreshed["private_metadata"])["tag"] == "pricing"
    assert "Showing: open · #pricing" in seen(fake, refreshed)
    assert len(rows(refreshed, Section.NEW)) == 2
    assert "SSO for Acme" not in seen(fake, refreshed)


def test_after_a_restart_a_change_still_refreshes_the_home(
    apps: Callable[[], App], fake: FakeSlack, clock: FixedClock
) -> None:
    first = apps()
    set_up_team(first.slack, fake)
    file_feedback(first.slack, fake, "SSO for Acme", "The #pricing page confuses buyers")
    action, values = typed_tag(open_home(first.slack, fake, ALICE), "#pricing")
    home_click(first.slack, fake, ALICE, action, values=values)
    first.close()  # the process stops
    clock.now += WINDOW

    restarted = apps()
    command(restarted.slack, fake, "/feedback", "Show #pricing per seat", CAROL)

    fake.wait_for(lambda: "Show #pricing per seat" in seen(fake, fake.home_views[ALICE]))
    assert json.loads(fake.home_views[ALICE]["private_metadata"])["tag"] == "pricing"
    assert "SSO for Acme" not in seen(fake, fake.home_views[ALICE])
