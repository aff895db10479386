"""App Home's debounced refresh, kept in the database so any process refreshes any Home: real
Homes (two of them standing for two processes) on one database, publishing to the fake Slack,
with an injected clock and timer: nothing sleeps."""

import logging
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from slack_sdk import WebClient
from sqlalchemy import inspect

from bot.blocks.home import HomeState
from bot.home import Home
from bot.membership import Membership
from sandbox.fake_slack import FakeSlack
from storage.db import Database, alembic_config, make_engine
from storage.homes import HomeStore
from storage.models import Role
from storage.planning import PlanningStore
from storage.queues import QueueStore
from storage.teams import TeamStore
from tests.conftest import ALICE, BOB, CAROL, TEAM, WORKSPACE, FixedClock

WINDOW = 5.0
PRICING = HomeState(tag="pricing")


class Timers:
    """`schedule(delay, work)` that keeps the work until the test runs it."""

    def __init__(self) -> None:
        self.due: list[tuple[float, Callable[[], None]]] = []
        self.lock = threading.Lock()

    def __call__(self, delay: float, work: Callable[[], None]) -> None:
        with self.lock:
            self.due.append((delay, work))

    def delays(self) -> list[float]:
        return [delay for delay, _ in self.due]

    def run_all(self) -> None:
        due, self.due = self.due, []
        for _, work in due:
            work()


class Process:
    """One process's Home (its own engine, timers and pending refreshes) on the shared
    database."""

    def __init__(self, database_url: str, fake: FakeSlack, clock: FixedClock) -> None:
        self.engine = make_engine(database_url)
        db = Database(self.engine)
        client = WebClient(token="xoxb-test-token", base_url=fake.api_url)
        self.timers = Timers()
        self.home = Home(
            QueueStore(db, WORKSPACE),
            TeamStore(db, WORKSPACE),
            PlanningStore(db, WORKSPACE),
            client,
            clock,
            refresh_seconds=WINDOW,
            schedule=self.timers,
            membership=Membership(client),
        )


@pytest.fixture
def processes(
    database_url: str, fake: FakeSlack, clock: FixedClock
) -> Iterator[tuple[Process, Process]]:
    """Two processes on one database; Alice's and Bob's Homes were published by the first a
    window ago (they opened them)."""
    first, second = Process(database_url, fake, clock), Process(database_url, fake, clock)
    clock.now -= timedelta(seconds=WINDOW)
    first.home.publish(ALICE)
    first.home.publish(BOB)
    clock.now += timedelta(seconds=WINDOW)
    yield first, second
    first.engine.dispose()
    second.engine.dispose()


@pytest.fixture
def home(processes: tuple[Process, Process]) -> Home:
    return processes[0].home


@pytest.fixture
def timers(processes: tuple[Process, Process]) -> Timers:
    return processes[0].timers


class Published:
    """The views.publish calls the fake Slack answered since the test began (after the
    fixtures' own publishes)."""

    def __init__(self, fake: FakeSlack) -> None:
        self.fake = fake
        self.before = len(fake.calls_to("views.publish"))

    def users(self) -> list[str]:
        return [call["user_id"] for call in self.fake.calls_to("views.publish")[self.before :]]

    def states(self) -> list[tuple[str, HomeState]]:
        calls = self.fake.calls_to("views.publish")[self.before :]
        return [(c["user_id"], HomeState.parse(c["view"]["private_metadata"])) for c in calls]


@pytest.fixture
def published(processes: tuple[Process, Process], fake: FakeSlack) -> Published:
    return Published(fake)


def later(clock: FixedClock, seconds: float) -> None:
    clock.now += timedelta(seconds=seconds)


# One process ----------------------------------------------------------------------------


def test_the_first_change_publishes_at_once(
    home: Home, timers: Timers, published: Published
) -> None:
    home.refresh_soon([ALICE, BOB, ALICE])
    assert published.users() == [ALICE, BOB]
    assert timers.due == []


def test_nobody_whose_home_was_never_published_is_refreshed(
    processes: tuple[Process, Process], published: Published
) -> None:
    for process in processes:
        process.home.refresh_soon([CAROL])  # say, the reporter of every new item
        assert process.timers.due == []
    assert published.users() == []


def test_changes_within_the_window_coalesce_into_one_publish_at_its_end(
    home: Home, clock: FixedClock, timers: Timers, published: Published
) -> None:
    home.refresh_soon([ALICE])
    later(clock, 1)
    home.refresh_soon([ALICE])
    later(clock, 1.5)
    home.refresh_soon([ALICE])
    home.refresh_soon([ALICE])
    assert published.users() == [ALICE]
    assert timers.delays() == [4.0]  # the end of the window, once
    later(clock, 2.5)
    timers.run_all()
    assert published.users() == [ALICE, ALICE]
    # The deferred publish opened a new window: the next change waits for its end.
    later(clock, 2)
    home.refresh_soon([ALICE])
    assert published.users() == [ALICE, ALICE]
    assert timers.delays() == [3.0]


def test_after_the_window_a_change_publishes_at_once_again(
    home: Home, clock: FixedClock, timers: Timers, published: Published
) -> None:
    home.refresh_soon([ALICE])
    later(clock, WINDOW)
    home.refresh_soon([ALICE])
    assert published.users() == [ALICE, ALICE]
    assert timers.due == []


def test_each_person_has_their_own_window(
    home: Home, clock: FixedClock, timers: Timers, published: Published
) -> None:
    home.refresh_soon([ALICE])
    later(clock, 1)
    home.refresh_soon([ALICE, BOB])
    assert published.users() == [ALICE, BOB]
    assert len(timers.due) == 1
    timers.run_all()
    assert published.users() == [ALICE, BOB, ALICE]


def test_opening_home_counts_as_a_publish_and_makes_a_pending_refresh_unneeded(
    home: Home, clock: FixedClock, timers: Timers, published: Published
) -> None:
    home.publish(ALICE)
    later(clock, 1)
    home.refresh_soon([ALICE])  # within the window of the open: deferred
    assert published.users() == [ALICE]
    later(clock, 1)
    home.publish(ALICE, PRICING)  # a filter click: always at once, and it shows the change
    later(clock, 3)
    timers.run_all()
    assert published.states() == [(ALICE, HomeState()), (ALICE, PRICING)]


def test_a_refresh_keeps_what_the_person_chose(
    home: Home, clock: FixedClock, published: Published
) -> None:
    home.publish(ALICE, PRICING)
    later(clock, WINDOW)
    home.refresh_soon([ALICE])
    assert published.states() == [(ALICE, PRICING), (ALICE, PRICING)]


def test_a_filter_the_person_no_longer_has_is_dropped_for_good(
    db: Database, home: Home, clock: FixedClock, published: Published
) -> None:
    """Alice filtered by a team she no longer manages: told once, and her refreshes show
    every team of hers without telling her again."""
    TeamStore(db, WORKSPACE).assign(TEAM, ALICE, Role.PRODUCT, ALICE, clock())
    home.publish(ALICE, HomeState(team="CGONE"))
    later(clock, WINDOW)
    home.refresh_soon([ALICE])
    assert published.states() == [(ALICE, HomeState()), (ALICE, HomeState())]
    views = [c["view"] for c in published.fake.calls_to("views.publish")[published.before :]]
    told = ["not the product manager of" in str(view["blocks"]) for view in views]
    assert told == [True, False]


def test_concurrent_changes_in_two_processes_publish_once_now_and_once_later(
    processes: tuple[Process, Process], clock: FixedClock, published: Published
) -> None:
    start = threading.Barrier(16)

    def change(home: Home) -> None:
        start.wait()
        for _ in range(20):
            home.refresh_soon([ALICE])

    threads = [threading.Thread(target=change, args=(p.home,)) for p in processes * 8]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert published.users() == [ALICE]
    # At most one timer per process; the first to run claims, the other finds it published.
    assert [len(p.timers.due) for p in processes] in ([1, 0], [0, 1], [1, 1])
    later(clock, WINDOW)
    for process in processes:
        process.timers.run_all()
    assert published.users() == [ALICE, ALICE]


def test_a_failed_refresh_is_logged_not_raised(
    home: Home,
    clock: FixedClock,
    timers: Timers,
    fake: FakeSlack,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake.fail_next("views.publish", "internal_error", times=2)
    with caplog.at_level(logging.WARNING, logger="bot.home"):
        home.refresh_soon([ALICE])
        later(clock, 1)
        home.refresh_soon([ALICE])
        later(clock, 4)
        timers.run_all()
    assert [r.getMessage() for r in caplog.records] == [
        f"could not refresh the App Home of {ALICE}",
        f"could not refresh the App Home of {ALICE}",
    ]


def test_the_default_timer_is_a_daemon_thread() -> None:
    from bot.home import on_a_timer

    ran = threading.Event()
    seen: dict[str, Any] = {}

    def work() -> None:
        seen["daemon"] = threading.current_thread().daemon
        ran.set()

    on_a_timer(0, work)
    assert ran.wait(5)
    assert seen["daemon"] is True


def test_after_close_waiting_refreshes_are_dropped(
    home: Home, clock: FixedClock, timers: Timers, published: Published
) -> None:
    home.refresh_soon([ALICE])
    later(clock, 1)
    home.refresh_soon([ALICE])
    home.close()
    later(clock, 4)
    timers.run_all()
    home.refresh_soon([BOB])
    assert published.users() == [ALICE]
    assert timers.due == []


# Several processes -------------------------------------------------------------------------


def test_a_process_that_never_published_a_home_refreshes_it_with_its_filters(
    processes: tuple[Process, Process], clock: FixedClock, published: Published
) -> None:
    first, second = processes
    first.home.publish(ALICE, PRICING)
    later(clock, WINDOW)
    second.home.refresh_soon([ALICE])
    assert published.states() == [(ALICE, PRICING), (ALICE, PRICING)]


def test_a_change_elsewhere_in_the_window_waits_for_its_end_once(
    processes: tuple[Process, Process], clock: FixedClock, published: Published
) -> None:
    first, second = processes
    first.home.refresh_soon([ALICE])  # at once: the window since the open has passed
    later(clock, 1)
    second.home.refresh_soon([ALICE])
    later(clock, 1)
    first.home.refresh_soon([ALICE])
    assert published.users() == [ALICE]
    assert first.timers.delays() == [3.0] and second.timers.delays() == [4.0]
    later(clock, 3)
    first.timers.run_all()  # the end of the window: the first claims it
    second.timers.run_all()  # published since its change: nothing more
    assert published.users() == [ALICE, ALICE]


def test_a_deferred_refresh_is_dropped_when_the_home_was_opened_elsewhere_since(
    processes: tuple[Process, Process], clock: FixedClock, published: Published
) -> None:
    first, second = processes
    first.home.publish(ALICE)
    later(clock, 1)
    second.home.refresh_soon([ALICE])
    later(clock, 1)
    first.home.publish(ALICE, PRICING)  # she filtered her Home: handled by the first
    later(clock, 3)
    second.timers.run_all()
    assert published.states() == [(ALICE, HomeState()), (ALICE, PRICING)]


def test_a_new_process_on_the_same_database_refreshes_homes_published_before(
    database_url: str,
    fake: FakeSlack,
    processes: tuple[Process, Process],
    clock: FixedClock,
    published: Published,
) -> None:
    first, _ = processes
    first.home.publish(ALICE, PRICING)
    first.home.close()  # the process stops
    later(clock, WINDOW)
    restarted = Process(database_url, fake, clock)
    try:
        restarted.home.refresh_soon([ALICE, CAROL])
    finally:
        restarted.engine.dispose()
    assert published.states() == [(ALICE, PRICING), (ALICE, PRICING)]


# The store ----------------------------------------------------------------------------------


def test_one_claim_wins_a_refresh_and_one_workspace_never_sees_anothers(
    db: Database, clock: FixedClock
) -> None:
    ours, theirs = HomeStore(db, WORKSPACE), HomeStore(db, "T0002")
    opened = clock()
    assert ours.show(ALICE, opened, None, "{}") == "{}"
    assert ours.show(ALICE, opened, '{"tag":"pricing"}', "{}") == '{"tag":"pricing"}'
    assert ours.show(ALICE, opened, None, "{}") == '{"tag":"pricing"}'  # kept
    assert theirs.published([ALICE]) == {}
    assert theirs.take(ALICE, opened, opened + timedelta(seconds=9)) is None

    now = opened + timedelta(seconds=WINDOW)
    assert ours.published([ALICE, BOB]) == {ALICE: opened}
    assert ours.take(ALICE, opened, now) == '{"tag":"pricing"}'
    assert ours.take(ALICE, opened, now) is None  # another process read the same: it lost
    assert ours.take_since(ALICE, now - timedelta(seconds=1), now) is None  # published since
    assert ours.take_since(ALICE, now, now + timedelta(seconds=WINDOW)) == '{"tag":"pricing"}'
    assert ours.published([ALICE]) == {ALICE: now + timedelta(seconds=WINDOW)}


def test_the_migration_adds_the_table_and_its_downgrade_drops_it(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/up_and_down.db")
    try:
        command.upgrade(alembic_config(engine), "0014")
        assert "home_view" in inspect(engine).get_table_names()
        command.downgrade(alembic_config(engine), "0013")
        assert "home_view" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()
