"""What `/metrics` tells an operator: requests and acks, items filed, outbox sends, Slack's 429s
and retries, open items and how late scheduled posts were; and `/readyz`.

Everything is driven as in the scenario tests: signed requests, as Slack sends them, to the real
app (in process, or served over HTTP), against the fake Slack Web API and a real database, with
time moved by hand. Counters are read as deltas, since the default registry lives as long as the
test session."""

import logging
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from prometheus_client import REGISTRY, CollectorRegistry
from slack_sdk.http_retry import builtin_handlers, handler

from bot.capture import Capture, SourceMessage
from bot.cards import Owed
from bot.metrics import OpenItems
from bot.tick import Ticker
from handlers.runtime import Runtime, start_http
from handlers.services import Services
from handlers.settings import Settings
from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient, state_values
from storage.db import Database, make_engine
from storage.models import ItemKind
from storage.workspaces import WorkspaceStore
from tests.conftest import ALICE, BOB, CAROL, DAVE, ERIN, SIGNING_SECRET, TEAM, FixedClock
from tests.handlers.scenario import (
    cards,
    command,
    ephemerals,
    item_id,
    nudges,
    rendered,
    set_up_team,
    tick,
    utc,
)

METRICS = "http://rolecall.test/metrics"  # answered in process by the `slack` fixture's app


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scrape(slack: SignedClient) -> str:
    """GET /metrics, unsigned, from the app that answers `slack`'s requests."""
    response = slack.http.get(METRICS)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits slack-sdk's retry handlers ask for (Retry-After, backoff), recorded instead of
    slept: only the third-party sleep is replaced, every retry decision is still made."""
    asked: list[float] = []
    no_sleep = SimpleNamespace(sleep=asked.append)
    monkeypatch.setattr(builtin_handlers, "time", no_sleep)
    monkeypatch.setattr(handler, "time", no_sleep)
    return asked


# Requests and acks


def test_a_command_is_counted_and_its_ack_timed(slack: SignedClient, fake: FakeSlack) -> None:
    requests = sample("rolecall_requests_total", kind="command", outcome="ok")
    acks = sample("rolecall_ack_seconds_count", kind="command")
    in_time = sample("rolecall_ack_seconds_bucket", kind="command", le="3.0")

    response = slack.command("/feedback", "dark mode", CAROL, TEAM)

    assert response.status_code == 200
    assert "Filed" in response.text
    assert sample("rolecall_requests_total", kind="command", outcome="ok") == requests + 1
    assert sample("rolecall_ack_seconds_count", kind="command") == acks + 1
    assert sample("rolecall_ack_seconds_bucket", kind="command", le="3.0") == in_time + 1
    text = scrape(slack)
    assert f'rolecall_requests_total{{kind="command",outcome="ok"}} {requests + 1}' in text
    assert f'rolecall_ack_seconds_count{{kind="command"}} {acks + 1}' in text
    assert fake.team_id not in text and CAROL not in text and TEAM not in text  # no ids in labels


def test_events_and_refusals_are_counted_by_kind_and_outcome(slack: SignedClient) -> None:
    def requests(kind: str, outcome: str) -> float:
        return sample("rolecall_requests_total", kind=kind, outcome=outcome)

    before = {
        "handled": requests("event", "ok"),
        "unhandled": requests("event", "refused"),
        "forged": requests("unknown", "bad_signature"),
        "junk": requests("unknown", "refused"),
    }

    handled = slack.event({"type": "app_home_opened", "user": CAROL, "tab": "messages"})
    # No listener for it: Bolt answers 404.
    unhandled = slack.event({"type": "channel_rename", "channel": {"id": TEAM, "name": "x"}})
    assert slack.last_request is not None
    _, headers = slack.last_request  # its signature, over another body
    forged = slack.http.post(slack.request_url, content=b'{"type": "x"}', headers=headers)
    junk = slack.post("[]", "application/json")

    assert [r.status_code for r in (handled, unhandled, forged, junk)] == [200, 404, 401, 400]
    assert {
        "handled": requests("event", "ok"),
        "unhandled": requests("event", "refused"),
        "forged": requests("unknown", "bad_signature"),
        "junk": requests("unknown", "refused"),
    } == {name: count + 1 for name, count in before.items()}


def test_metrics_are_served_unsigned_over_http_and_get_only(server_url: str) -> None:
    refused = sample("rolecall_requests_total", kind="unknown", outcome="bad_signature")

    with httpx.Client(base_url=server_url, timeout=10) as http:
        scraped = http.get("/metrics")
        posted = http.post("/metrics")
        unsigned = http.post("/slack/events", content=b"{}")

    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    assert "# TYPE rolecall_requests_total counter" in scraped.text
    assert "# TYPE rolecall_ack_seconds histogram" in scraped.text
    assert posted.status_code == 405
    # Refused before its body was read: still counted.
    assert unsigned.status_code == 401
    assert sample("rolecall_requests_total", kind="unknown", outcome="bad_signature") == (
        refused + 1
    )


def test_readyz_answers_503_while_the_scheduler_is_not_running(
    slack: SignedClient, runtime: Runtime
) -> None:
    def readyz() -> tuple[int, object]:
        response = slack.http.get("http://rolecall.test/readyz")
        return response.status_code, response.json()

    no_scheduler = readyz()  # a process that leaves scheduling to `rolecall tick`
    runtime.start_scheduler()
    assert runtime.scheduler is not None
    scheduling = readyz()
    runtime.scheduler.shutdown(wait=True)
    stopped = readyz()
    runtime.scheduler.start()  # running again, for the runtime's own shutdown
    again = readyz()

    assert no_scheduler == scheduling == again == (200, {"ok": True})
    assert stopped == (503, {"ok": False})


# Open items


def test_open_items_are_counted_at_scrape_time(
    slack: SignedClient, fake: FakeSlack, db: Database
) -> None:
    registry = CollectorRegistry()
    registry.register(OpenItems(WorkspaceStore(db).open_items))

    def open_items(kind: str, status: str) -> float | None:
        return registry.get_sample_value("rolecall_open_items", {"kind": kind, "status": status})

    set_up_team(slack, fake)
    assert open_items("feedback", "open") is None
    command(slack, fake, "/feedback", "SSO for Acme", CAROL)
    command(slack, fake, "/feedback", "Dark mode", ERIN)
    command(slack, fake, "/blocker", "Staging is down", CAROL)
    command(slack, fake, "/blocker", "CI is out of disk", ERIN)
    assert (open_items("feedback", "open"), open_items("blocker", "open")) == (2, 2)

    staging, ci = cards(fake, BOB)
    slack.click(BOB, fake.dm_channel(BOB), staging["ts"], "item_acknowledge", item_id(staging))
    slack.click(BOB, fake.dm_channel(BOB), ci["ts"], "item_resolve", item_id(ci))
    [note] = fake.open_views(BOB)  # an optional note for the reporter
    slack.view_submission(note, BOB, state_values(note, {}))

    assert open_items("feedback", "open") == 2
    assert open_items("blocker", "open") is None
    assert open_items("blocker", "acknowledged") == 1  # resolved: no longer counted
    assert open_items("blocker", "resolved") is None


@pytest.fixture
def counting_server(settings: Settings, clock: FixedClock) -> Iterator[str]:
    """`rolecall serve` on loopback, adding the open-items gauge to /metrics."""
    server = start_http(
        settings, "127.0.0.1", 0, clock=clock, schedule=False, count_open_items=True
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.port}"
    server.stop()
    thread.join(timeout=5)


def test_open_items_are_served_on_metrics(counting_server: str, fake: FakeSlack) -> None:
    with (
        SignedClient(f"{counting_server}/slack/events", SIGNING_SECRET, fake) as wire,
        httpx.Client(base_url=counting_server, timeout=10) as http,
    ):
        empty = http.get("/metrics").text
        for text in ("SSO for Acme", "Dark mode"):
            assert wire.command("/feedback", text, CAROL, TEAM).status_code == 200
        assert wire.command("/blocker", "Staging is down", CAROL, TEAM).status_code == 200
        served = http.get("/metrics").text

    assert "# TYPE rolecall_open_items gauge" in empty
    assert "rolecall_open_items{" not in empty
    assert 'rolecall_open_items{kind="feedback",status="open"} 2.0' in served
    assert 'rolecall_open_items{kind="blocker",status="open"} 1.0' in served


def test_a_database_that_cannot_count_costs_only_the_open_items(
    slack: SignedClient, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    unmigrated = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")  # no `item` table
    collector = OpenItems(WorkspaceStore(Database(unmigrated)).open_items)
    REGISTRY.register(collector)
    try:
        text = scrape(slack)
    finally:
        REGISTRY.unregister(collector)
        unmigrated.dispose()

    assert "rolecall_open_items{" not in text
    assert "rolecall_requests_total" in text
    assert [r.getMessage() for r in caplog.records if r.name == "bot.metrics"] == [
        "open items not counted for /metrics: OperationalError"
    ]


# Items filed


def filed(kind: str, entry_point: str, outcome: str) -> float:
    return sample("rolecall_items_filed_total", kind=kind, entry_point=entry_point, outcome=outcome)


def test_items_filed_are_counted_by_entry_point_and_outcome(
    slack: SignedClient, fake: FakeSlack
) -> None:
    counted = [
        ("feedback", "command", "new"),
        ("feedback", "command", "replay"),
        ("feedback", "reaction", "new"),
        ("feedback", "reaction", "vote"),
        ("feedback", "reaction", "duplicate"),
        ("feedback", "message", "new"),
        ("blocker", "mention", "new"),
        ("blocker", "message", "new"),
    ]
    before = {labels: filed(*labels) for labels in counted}
    set_up_team(slack, fake)

    confirmation = command(slack, fake, "/feedback", "SSO for Acme", CAROL)
    assert confirmation.startswith("Filed in #launch's product manager queue"), confirmation
    replay = slack.replay()  # the same command, byte for byte
    assert replay.status_code == 200
    fake.record_reply(CAROL, TEAM, replay)  # what Slack would show its author
    assert ephemerals(fake, CAROL)[-2:] == [confirmation, confirmation]  # told the same again
    quote, _ = slack.say(TEAM, ERIN, "customers want dark mode")
    slack.react(TEAM, CAROL, quote["ts"], "bulb")  # filed
    slack.react(TEAM, DAVE, quote["ts"], "bulb")  # a +1
    slack.react(TEAM, DAVE, quote["ts"], "bulb::skin-tone-3")  # counted once already
    slack.say(TEAM, ERIN, "feedback: onboarding emails land in spam")
    slack.mention(TEAM, CAROL, "<@UROLECALL> blocker the staging DB is down")

    assert {labels: filed(*labels) - count for labels, count in before.items()} == {
        ("feedback", "command", "new"): 1,
        ("feedback", "command", "replay"): 1,
        ("feedback", "reaction", "new"): 1,
        ("feedback", "reaction", "vote"): 1,
        ("feedback", "reaction", "duplicate"): 1,
        ("feedback", "message", "new"): 1,
        ("blocker", "mention", "new"): 1,
        ("blocker", "message", "new"): 0,  # Slack's `message` event of the mention files nothing
    }
    # The replay's announce ran again, but its card is keyed: no second one.
    assert len(cards(fake, ALICE)) == 3 and len(cards(fake, BOB)) == 1
    assert sum("SSO for Acme" in rendered(fake, card) for card in cards(fake, ALICE)) == 1


def test_the_entry_point_is_named_or_told_by_the_source() -> None:
    source = SourceMessage("CLAUNCH", "1.2", "text", "UERIN")
    assert Capture(ItemKind.BLOCKER, "x", "C", "U").entry_point == "command"
    assert Capture(ItemKind.BLOCKER, "x", "C", "U", source).entry_point == "message"
    assert Capture(ItemKind.BLOCKER, "x", "C", "U", source, via="mention").entry_point == "mention"


# Outbox sends and schedule lag


def sends(kind: str, outcome: str) -> float:
    return sample("rolecall_outbox_sends_total", kind=kind, outcome=outcome)


OUTCOMES = ("posted", "found_earlier", "failed", "skipped", "queued", "deferred")


def test_card_sends_are_counted_by_outcome(
    slack: SignedClient,
    fake: FakeSlack,
    ticker: Ticker,
    clock: FixedClock,
    waits: list[float],
) -> None:
    before = {outcome: sends("card", outcome) for outcome in OUTCOMES}
    lag = sample("rolecall_schedule_lag_seconds_count", kind="card")
    set_up_team(slack, fake)

    command(slack, fake, "/feedback", "SSO for Acme", CAROL)  # its card is posted
    [posted] = cards(fake, ALICE)
    # Another runner owes the same card: it was sent, so it is skipped.
    ticker.cards.resend(Owed(ALICE, int(item_id(posted))))
    # Slack posts the next card but the response is lost, and the lookup for it fails too
    # (5xx past slack-sdk's retries): failed, to be looked for again by a later run...
    fake.lose_response("chat.postMessage")
    fake.fail_next("conversations.history", "internal_error", status=500, times=3)
    command(slack, fake, "/feedback", "Dark mode", ERIN)
    # ... which finds it after the backoff, and does not post it again.
    tick(ticker, clock, clock.now + timedelta(minutes=1))
    fake.fail_next("chat.postMessage", "channel_not_found")
    command(slack, fake, "/feedback", "Bulk edit for tags", CAROL)

    assert {outcome: sends("card", outcome) - before[outcome] for outcome in OUTCOMES} == {
        "posted": 1,
        "found_earlier": 1,
        "failed": 2,
        "skipped": 1,
        "queued": 0,
        "deferred": 0,
    }
    assert len(cards(fake, ALICE)) == 2  # the lost one once; the refused one not yet
    assert sample("rolecall_schedule_lag_seconds_count", kind="card") == lag  # not scheduled
    assert len(waits) == 2  # slack-sdk's two retries of the failing lookup, not slept


def test_a_nudge_counts_its_send_and_how_late_it_came(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/rolecall", "timezone Europe/Berlin", BOB)
    command(slack, fake, "/milestone", "add Beta 2026-12-01", BOB)
    posted = sends("reminder", "posted")
    lag_count = sample("rolecall_schedule_lag_seconds_count", kind="reminder")
    lag_sum = sample("rolecall_schedule_lag_seconds_sum", kind="reminder")
    within_a_minute = sample("rolecall_schedule_lag_seconds_bucket", kind="reminder", le="60.0")

    # Due at 09:00 in Berlin (08:00 UTC); this run comes 90 s late.
    tick(ticker, clock, utc(11, 30, 8) + timedelta(seconds=90))

    assert nudges(fake) == [":calendar: Milestone *Beta* is due tomorrow (Tue 1 Dec 2026)"]
    assert sends("reminder", "posted") == posted + 1
    assert sample("rolecall_schedule_lag_seconds_count", kind="reminder") == lag_count + 1
    assert sample("rolecall_schedule_lag_seconds_sum", kind="reminder") == lag_sum + 90
    assert (
        sample("rolecall_schedule_lag_seconds_bucket", kind="reminder", le="60.0")
        == within_a_minute
    )


def test_reminders_in_one_message_are_as_late_as_the_earliest(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/rolecall", "escalation 8", BOB)
    command(slack, fake, "/rolecall", "escalate channel", BOB)  # escalations in #launch
    command(slack, fake, "/milestone", "add Beta 2026-12-01", BOB)  # nudged Mon 09:00
    clock.now = utc(11, 27, 15)  # Friday afternoon
    command(slack, fake, "/blocker", "Staging is down", CAROL)  # escalates Mon 15:00
    lag_count = sample("rolecall_schedule_lag_seconds_count", kind="reminder")
    lag_sum = sample("rolecall_schedule_lag_seconds_sum", kind="reminder")

    # Down all Monday morning: the nudge and the escalation go out together, at 15:00:30.
    tick(ticker, clock, utc(11, 30, 15) + timedelta(seconds=30))

    [together] = [n for n in nudges(fake) if "*Beta*" in n]
    assert "Staging is down" in together
    # One message, as late as its earliest line: the nudge's 6 h, not the escalation's 30 s.
    assert sample("rolecall_schedule_lag_seconds_count", kind="reminder") == lag_count + 1
    assert sample("rolecall_schedule_lag_seconds_sum", kind="reminder") == (
        lag_sum + (6 * 3600 + 30)
    )


def test_an_uninstalled_workspaces_sends_are_counted_as_queued(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/milestone", "add Beta 2026-12-01", BOB)
    assert slack.event({"type": "app_uninstalled"}).status_code == 200
    queued, posted = sends("reminder", "queued"), sends("reminder", "posted")
    lag = sample("rolecall_schedule_lag_seconds_count", kind="reminder")

    tick(ticker, clock, utc(11, 30, 9))

    assert nudges(fake) == []
    assert sends("reminder", "queued") == queued + 1
    assert sends("reminder", "posted") == posted
    assert sample("rolecall_schedule_lag_seconds_count", kind="reminder") == lag


def test_a_tick_is_timed(
    slack: SignedClient, fake: FakeSlack, services: Services, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/milestone", "add Beta 2026-12-01", BOB)
    before = sample("rolecall_tick_seconds_count")

    tick(services.ticker, clock, utc(11, 30, 9))

    assert len(nudges(fake)) == 1
    assert sample("rolecall_tick_seconds_count") == before + 1


# Slack's 429s and retries


def test_429s_and_retries_are_counted(
    slack: SignedClient, fake: FakeSlack, waits: list[float]
) -> None:
    limited = sample("rolecall_slack_rate_limited_total", method="chat.postMessage")
    retried = {
        reason: sample("rolecall_slack_retries_total", reason=reason)
        for reason in ("rate_limited", "server_error", "lost_post")
    }
    set_up_team(slack, fake)

    fake.rate_limit_next("chat.postMessage", retry_after=0)  # waited out by the client
    command(slack, fake, "/feedback", "SSO for Acme", CAROL)
    fake.fail_next("chat.getPermalink", "internal_error", status=503)  # retried by the client
    slack.say(TEAM, ERIN, "feedback: dark mode")
    fake.fail_next("chat.postMessage", "internal_error", status=500)  # not posted: looked for
    command(slack, fake, "/feedback", "Bulk edit for tags", CAROL)

    assert len(cards(fake, ALICE)) == 3  # each once
    assert "Source message" in str(cards(fake, ALICE)[1]["blocks"])  # the permalink, retried
    assert sample("rolecall_slack_rate_limited_total", method="chat.postMessage") == limited + 1
    assert {
        reason: sample("rolecall_slack_retries_total", reason=reason) - count
        for reason, count in retried.items()
    } == {"rate_limited": 1, "server_error": 1, "lost_post": 1}
    assert len(waits) == 2  # the client's two waits (Retry-After: 0, a backoff), not slept
    assert 0 <= waits[0] < 1  # Retry-After 0 (slack-sdk adds up to a second of jitter)


def test_429s_are_counted_by_method_even_when_retries_run_out(
    slack: SignedClient, fake: FakeSlack, waits: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    limited = sample("rolecall_slack_rate_limited_total", method="chat.postEphemeral")
    retried = sample("rolecall_slack_retries_total", reason="rate_limited")
    fake.rate_limit_next("chat.postEphemeral", retry_after=0, times=6)  # past the 5 retries

    with caplog.at_level(logging.ERROR):
        slack.mention(TEAM, CAROL, "<@UROLECALL> hello?")  # answered with help, ephemerally

    assert sample("rolecall_slack_rate_limited_total", method="chat.postEphemeral") == limited + 6
    assert sample("rolecall_slack_retries_total", reason="rate_limited") == retried + 5
    assert len(waits) == 5
    assert [c.status for c in fake.calls if c.method == "chat.postEphemeral"] == [429] * 6
    assert any("chat.postEphemeral" in r.getMessage() for r in caplog.records)
    assert fake.calls_to("chat.postEphemeral") == []  # nothing reached Carol
