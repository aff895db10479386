"""App Home's debounced refresh, with an injected clock and timer: nothing sleeps."""

import logging
import threading
from collections.abc import Callable
from typing import Any

import pytest

from bot.blocks.home import HomeState
from bot.home import Home

WINDOW = 5.0


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Timers:
    """`schedule(delay, work)` that keeps the work until the test runs it."""

    def __init__(self) -> None:
        self.due: list[tuple[float, Callable[[], None]]] = []
        self.lock = threading.Lock()

    def __call__(self, delay: float, work: Callable[[], None]) -> None:
        with self.lock:
            self.due.append((delay, work))

    def run_all(self) -> None:
        due, self.due = self.due, []
        for _, work in due:
            work()


class RecordingHome(Home):
    """A Home whose publishing is recorded instead of read and sent."""

    def __init__(self, clock: Clock, timers: Timers) -> None:
        super().__init__(
            None,  # type: ignore[arg-type]  # never read: `_send` is replaced
            None,  # type: ignore[arg-type]
            None,  # type: ignore[arg-type]
            None,  # type: ignore[arg-type]
            refresh_seconds=WINDOW,
            schedule=timers,
            monotonic=clock,
        )
        self.sent: list[tuple[str, HomeState]] = []
        self.fail = False

    def _send(self, user_id: str, state: HomeState, note: str | None) -> None:
        if self.fail:
            raise OSError("Slack is down")
        self.sent.append((user_id, state))
        with self._lock:
            self._states[user_id] = state


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def timers() -> Timers:
    return Timers()


@pytest.fixture
def home(clock: Clock, timers: Timers) -> RecordingHome:
    """U1's and U2's Homes were published a window ago (they opened them)."""
    recording = RecordingHome(clock, timers)
    clock.now -= WINDOW
    recording.publish("U1")
    recording.publish("U2")
    clock.now += WINDOW
    recording.sent.clear()
    return recording


def users(home: RecordingHome) -> list[str]:
    return [user for user, _ in home.sent]


def test_the_first_change_publishes_at_once(home: RecordingHome, timers: Timers) -> None:
    home.refresh_soon(["U1", "U2", "U1"])
    assert users(home) == ["U1", "U2"]
    assert timers.due == []


def test_nobody_whose_home_was_never_published_here_is_refreshed(
    home: RecordingHome, timers: Timers
) -> None:
    home.refresh_soon(["U3"])  # say, the reporter of every new item
    assert users(home) == [] and timers.due == []


def test_changes_within_the_window_coalesce_into_one_publish_at_its_end(
    home: RecordingHome, clock: Clock, timers: Timers
) -> None:
    home.refresh_soon(["U1"])
    clock.now += 1
    home.refresh_soon(["U1"])
    clock.now += 1.5
    home.refresh_soon(["U1"])
    home.refresh_soon(["U1"])
    assert users(home) == ["U1"]
    assert [delay for delay, _ in timers.due] == [4.0]  # the end of the window, once
    clock.now = 1000.0 + WINDOW
    timers.run_all()
    assert users(home) == ["U1", "U1"]
    # The deferred publish opened a new window: the next change waits for its end.
    clock.now += 2
    home.refresh_soon(["U1"])
    assert users(home) == ["U1", "U1"]
    assert [delay for delay, _ in timers.due] == [3.0]


def test_after_the_window_a_change_publishes_at_once_again(
    home: RecordingHome, clock: Clock, timers: Timers
) -> None:
    home.refresh_soon(["U1"])
    clock.now += WINDOW
    home.refresh_soon(["U1"])
    assert users(home) == ["U1", "U1"]
    assert timers.due == []


def test_each_person_has_their_own_window(
    home: RecordingHome, clock: Clock, timers: Timers
) -> None:
    home.refresh_soon(["U1"])
    clock.now += 1
    home.refresh_soon(["U1", "U2"])
    assert users(home) == ["U1", "U2"]
    assert len(timers.due) == 1
    timers.run_all()
    assert users(home) == ["U1", "U2", "U1"]


def test_opening_home_counts_as_a_publish_and_makes_a_pending_refresh_unneeded(
    home: RecordingHome, clock: Clock, timers: Timers
) -> None:
    home.publish("U1")
    clock.now += 1
    home.refresh_soon(["U1"])  # within the window of the open: deferred
    assert users(home) == ["U1"]
    clock.now += 1
    filtered = HomeState(tag="pricing")
    home.publish("U1", filtered)  # a filter click: always at once, and it shows the change
    timers.run_all()
    assert home.sent == [("U1", HomeState()), ("U1", filtered)]


def test_a_refresh_keeps_what_the_person_chose(
    home: RecordingHome, clock: Clock, timers: Timers
) -> None:
    filtered = HomeState(tag="pricing")
    home.publish("U1", filtered)
    clock.now += WINDOW
    home.refresh_soon(["U1"])
    assert home.sent[-1] == ("U1", filtered)


def test_concurrent_changes_publish_once_now_and_once_later(
    home: RecordingHome, timers: Timers
) -> None:
    start = threading.Barrier(16)

    def change() -> None:
        start.wait()
        for _ in range(50):
            home.refresh_soon(["U1"])

    threads = [threading.Thread(target=change) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert users(home) == ["U1"]
    assert len(timers.due) == 1
    timers.run_all()
    assert users(home) == ["U1", "U1"]


def test_a_failed_refresh_is_logged_not_raised(
    home: RecordingHome, clock: Clock, timers: Timers, caplog: pytest.LogCaptureFixture
) -> None:
    home.fail = True
    with caplog.at_level(logging.WARNING, logger="bot.home"):
        home.refresh_soon(["U1"])
        clock.now += 1
        home.refresh_soon(["U1"])
        timers.run_all()
    assert [r.getMessage() for r in caplog.records] == [
        "could not refresh the App Home of U1",
        "could not refresh the App Home of U1",
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
    home: RecordingHome, clock: Clock, timers: Timers
) -> None:
    home.refresh_soon(["U1"])
    clock.now += 1
    home.refresh_soon(["U1"])
    home.close()
    timers.run_all()
    home.refresh_soon(["U2"])
    assert users(home) == ["U1"]
    assert timers.due == []
