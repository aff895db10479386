"""What `/metrics` tells an operator: requests and acks, items filed, outbox sends, Slack's 429s
and retries, open items and how late scheduled posts were; and `/readyz`.

The endpoint under test is the real one, in front of a small Bolt app of its own (the domain's
listeners are exercised by the scenario tests); counters are read as deltas, since the default
registry lives as long as the test session."""

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any, ClassVar
from unittest.mock import create_autospec
from urllib.parse import urlencode

import pytest
from prometheus_client import REGISTRY, CollectorRegistry
from slack_bolt import Ack, App
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import builtin_handlers, handler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web import SlackResponse
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError

from bot.capture import Capture, Capturer, SourceMessage
from bot.cards import Cards
from bot.digest import Digests
from bot.metrics import OpenItems
from bot.notices import Notices
from bot.outbox import Outbox, Pacer
from bot.planning import Planning
from bot.reminders import Planned, Reminders
from bot.slack_client import TAG_EVENT, make_client
from bot.tick import Ticker
from bot.workspaces import Workspaces
from handlers.after_ack import AfterAck
from handlers.web import AsgiApp, Endpoint, Reply
from storage.items import ItemStore
from storage.models import Deadline, Item, ItemKind, SendKind
from storage.outbox import OutboxStore, Send
from storage.planning import PlanningStore
from storage.teams import Routing, TeamStore

SECRET = "metrics-test-secret"
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def signed(body: str, content_type: str) -> dict[str, str]:
    timestamp = str(int(time.time()))
    return {
        "content-type": content_type,
        "x-slack-request-timestamp": timestamp,
        "x-slack-signature": str(
            SignatureVerifier(SECRET).generate_signature(timestamp=timestamp, body=body)
        ),
    }


COMMAND = urlencode(
    {
        "command": "/feedback",
        "text": "dark mode",
        "user_id": "UCAROL",
        "channel_id": "CLAUNCH",
        "team_id": "TACME",
        "trigger_id": "1.2.abc",
    }
)


class Ready:
    def __init__(self) -> None:
        self.ready = False

    def __call__(self) -> bool:
        return self.ready


@pytest.fixture
def ready() -> Ready:
    return Ready()


@pytest.fixture
def endpoint(ready: Ready) -> Iterator[Endpoint]:
    """The real endpoint before a Bolt app that acks /feedback, on AfterAck's listener pool."""
    after_ack = AfterAck()
    app = App(
        signing_secret=SECRET,
        authorize=lambda **_: AuthorizeResult(
            enterprise_id=None, team_id="TACME", bot_token="xoxb-metrics-test", bot_user_id="UBOT"
        ),
        raise_error_for_unhandled_request=False,
        listener_executor=after_ack.listeners,
    )

    @app.command("/feedback")
    def feedback(ack: Ack) -> None:
        ack(text="Filed")

    engine = create_engine("sqlite://")
    yield Endpoint(app, engine, SECRET, ready=ready)
    after_ack.shutdown()
    engine.dispose()


def command(endpoint: Endpoint) -> Reply:
    return endpoint.handle(
        "POST",
        "/slack/events",
        "",
        signed(COMMAND, "application/x-www-form-urlencoded"),
        COMMAND.encode(),
        time.monotonic(),
    )


def metrics_text(endpoint: Endpoint) -> str:
    reply = endpoint.handle("GET", "/metrics", "", {}, b"")
    assert reply.status == 200
    assert reply.headers["content-type"].startswith("text/plain")
    return reply.body.decode()


def test_a_command_is_counted_and_its_ack_timed(endpoint: Endpoint) -> None:
    requests = sample("rolecall_requests_total", kind="command", outcome="ok")
    acks = sample("rolecall_ack_seconds_count", kind="command")

    reply = command(endpoint)

    assert reply.status == 200
    assert reply.body == b"Filed"
    assert sample("rolecall_requests_total", kind="command", outcome="ok") == requests + 1
    assert sample("rolecall_ack_seconds_count", kind="command") == acks + 1
    assert sample("rolecall_ack_seconds_bucket", kind="command", le="3.0") == acks + 1
    text = metrics_text(endpoint)
    assert f'rolecall_requests_total{{kind="command",outcome="ok"}} {requests + 1}' in text
    assert f'rolecall_ack_seconds_count{{kind="command"}} {acks + 1}' in text
    assert "TACME" not in text and "UCAROL" not in text  # no ids in labels


def test_events_and_refusals_are_counted_by_kind_and_outcome(endpoint: Endpoint) -> None:
    event = json.dumps(
        {
            "type": "event_callback",
            "team_id": "TACME",
            "event_id": "Ev1",
            "event": {"type": "app_home_opened", "user": "UCAROL", "tab": "home"},
        }
    )
    before = {
        "event": sample("rolecall_requests_total", kind="event", outcome="refused"),
        "forged": sample("rolecall_requests_total", kind="unknown", outcome="bad_signature"),
        "junk": sample("rolecall_requests_total", kind="unknown", outcome="refused"),
    }

    # No listener for it in this app: Bolt answers 404.
    unhandled = endpoint.handle(
        "POST", "/slack/events", "", signed(event, "application/json"), event.encode()
    )
    forged = endpoint.handle(
        "POST", "/slack/events", "", signed("x", "application/json"), event.encode()
    )
    junk = endpoint.handle("POST", "/slack/events", "", signed("[]", "application/json"), b"[]")

    assert (unhandled.status, forged.status, junk.status) == (404, 401, 400)
    assert sample("rolecall_requests_total", kind="event", outcome="refused") == (
        before["event"] + 1
    )
    assert sample("rolecall_requests_total", kind="unknown", outcome="bad_signature") == (
        before["forged"] + 1
    )
    assert sample("rolecall_requests_total", kind="unknown", outcome="refused") == (
        before["junk"] + 1
    )


def asgi(app: AsgiApp, method: str, path: str, headers: dict[str, str] | None = None) -> Reply:
    """One request through the ASGI app, without a server."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": b"",
        "headers": [(k.encode(), v.encode()) for k, v in (headers or {}).items()],
    }
    asyncio.run(app(scope, receive, send))
    start, body = sent
    return Reply(
        start["status"],
        body["body"],
        {k.decode(): v.decode() for k, v in start["headers"]},
    )


def test_readyz_answers_503_until_ready(endpoint: Endpoint, ready: Ready) -> None:
    app = AsgiApp(endpoint, threads=1)
    try:
        not_yet = asgi(app, "GET", "/readyz")
        ready.ready = True
        now_ready = asgi(app, "GET", "/readyz")
    finally:
        app.shutdown()

    assert (not_yet.status, json.loads(not_yet.body)) == (503, {"ok": False})
    assert (now_ready.status, json.loads(now_ready.body)) == (200, {"ok": True})


def test_readyz_is_ready_when_nobody_says_otherwise(endpoint: Endpoint) -> None:
    default = Endpoint(endpoint.app, endpoint.engine, SECRET)
    assert default.handle("GET", "/readyz", "", {}, b"").status == 200


def test_metrics_are_served_unsigned_over_asgi_and_get_only(endpoint: Endpoint) -> None:
    app = AsgiApp(endpoint, threads=1)
    refused = sample("rolecall_requests_total", kind="unknown", outcome="bad_signature")
    try:
        scraped = asgi(app, "GET", "/metrics")
        posted = asgi(app, "POST", "/metrics")
        unsigned = asgi(app, "POST", "/slack/events")
    finally:
        app.shutdown()

    assert scraped.status == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    assert b"# TYPE rolecall_requests_total counter" in scraped.body
    assert b"# TYPE rolecall_ack_seconds histogram" in scraped.body
    assert posted.status == 405
    # Refused before its body was read, by the ASGI app: still counted.
    assert unsigned.status == 401
    assert sample("rolecall_requests_total", kind="unknown", outcome="bad_signature") == (
        refused + 1
    )


def test_open_items_are_counted_at_scrape_time() -> None:
    counts = {("feedback", "open"): 3, ("blocker", "acknowledged"): 1}
    registry = CollectorRegistry()
    registry.register(OpenItems(lambda: counts))

    assert (
        registry.get_sample_value("rolecall_open_items", {"kind": "feedback", "status": "open"})
        == 3
    )
    counts[("feedback", "open")] = 5
    assert (
        registry.get_sample_value("rolecall_open_items", {"kind": "feedback", "status": "open"})
        == 5
    )
    assert (
        registry.get_sample_value(
            "rolecall_open_items", {"kind": "blocker", "status": "acknowledged"}
        )
        == 1
    )


def test_open_items_are_served_on_metrics(endpoint: Endpoint) -> None:
    collector = OpenItems(lambda: {("blocker", "open"): 2})
    REGISTRY.register(collector)
    try:
        text = metrics_text(endpoint)
    finally:
        REGISTRY.unregister(collector)
    assert 'rolecall_open_items{kind="blocker",status="open"} 2.0' in text


def test_a_database_that_cannot_count_costs_only_the_open_items(
    endpoint: Endpoint, caplog: pytest.LogCaptureFixture
) -> None:
    def locked() -> dict[tuple[str, str], int]:
        raise OperationalError("SELECT kind, status …", {}, Exception("database is locked"))

    collector = OpenItems(locked)
    REGISTRY.register(collector)
    try:
        text = metrics_text(endpoint)
    finally:
        REGISTRY.unregister(collector)
    assert "rolecall_open_items{" not in text
    assert "rolecall_requests_total" in text
    assert [r.getMessage() for r in caplog.records] == [
        "open items not counted for /metrics: OperationalError"
    ]


# Items filed


def item(reporter: str, item_id: int = 7) -> Item:
    return Item(
        id=item_id,
        kind=ItemKind.FEEDBACK,
        team_channel_id="CLAUNCH",
        text="dark mode",
        reporter_id=reporter,
        created_at=NOW,
        updated_at=NOW,
    )


def capturer(items: Any) -> Capturer:
    cards = create_autospec(Cards, instance=True)
    cards.routing.return_value = Routing(["UALICE"], None)
    return Capturer(
        items,
        create_autospec(TeamStore, instance=True),
        cards,
        create_autospec(Planning, instance=True),
        create_autospec(WebClient, instance=True),
        lambda: NOW,
    )


def filed(kind: str, entry_point: str, outcome: str) -> float:
    return sample("rolecall_items_filed_total", kind=kind, entry_point=entry_point, outcome=outcome)


def test_items_filed_are_counted_by_entry_point_and_outcome() -> None:
    items = create_autospec(ItemStore, instance=True)
    capture = capturer(items)
    source = SourceMessage("CLAUNCH", "1700000000.000100", "feedback: dark mode", "UERIN")
    before = {
        "new": filed("feedback", "command", "new"),
        "vote": filed("feedback", "message", "vote"),
        "duplicate": filed("feedback", "command", "duplicate"),
        "replay": filed("feedback", "command", "replay"),
    }

    items.file_request.return_value = (item("UCAROL"), True)
    capture.file_request(Capture(ItemKind.FEEDBACK, "dark mode", "CLAUNCH", "UCAROL"), "1.2.a")
    items.file_request.return_value = (item("UCAROL"), False)
    items.add_vote.return_value = True
    capture.file(Capture(ItemKind.FEEDBACK, "dark mode", "CLAUNCH", "UERIN", source))
    capture.file(Capture(ItemKind.FEEDBACK, "dark mode", "CLAUNCH", "UCAROL"))
    items.file_request.return_value = None
    capture.file_request(Capture(ItemKind.FEEDBACK, "dark mode", "CLAUNCH", "UCAROL"), "1.2.a")

    assert filed("feedback", "command", "new") == before["new"] + 1
    assert filed("feedback", "message", "vote") == before["vote"] + 1
    assert filed("feedback", "command", "duplicate") == before["duplicate"] + 1
    assert filed("feedback", "command", "replay") == before["replay"] + 1


def test_a_reaction_is_counted_as_one() -> None:
    items = create_autospec(ItemStore, instance=True)
    queued = item("UCAROL")
    items.by_source.return_value = queued
    items.file_request.return_value = (queued, False)
    items.add_vote.return_value = True
    before = filed("feedback", "reaction", "vote")

    capturer(items).file_reaction("CLAUNCH", "1700000000.000100", "UERIN", ItemKind.FEEDBACK)

    assert filed("feedback", "reaction", "vote") == before + 1


def test_the_entry_point_is_named_or_told_by_the_source() -> None:
    source = SourceMessage("CLAUNCH", "1.2", "text", "UERIN")
    assert Capture(ItemKind.BLOCKER, "x", "C", "U").entry_point == "command"
    assert Capture(ItemKind.BLOCKER, "x", "C", "U", source).entry_point == "message"
    assert Capture(ItemKind.BLOCKER, "x", "C", "U", source, via="mention").entry_point == "mention"


# Outbox sends and schedule lag


def outbox(store: Any, client: Any, allowed: bool = True, now: datetime = NOW) -> Outbox:
    store.workspace_id = "TACME"
    workspaces = create_autospec(Workspaces, instance=True)
    workspaces.posting_allowed.return_value = allowed
    return Outbox(store, client, lambda: now, Pacer(sleep=lambda _: None), workspaces)


def sends(kind: str, outcome: str) -> float:
    return sample("rolecall_outbox_sends_total", kind=kind, outcome=outcome)


def render(_: list[Send]) -> Any:
    return SimpleNamespace(text="Due today: launch", blocks=[])


def test_a_scheduled_post_counts_its_send_and_how_late_it_came() -> None:
    store = create_autospec(OutboxStore, instance=True)
    store.claim.return_value = {"milestone:1": [], "milestone:2": []}
    client = create_autospec(WebClient, instance=True)
    client.chat_postMessage.return_value = {"channel": "CLAUNCH", "ts": "1.1"}
    posted = sends("reminder", "posted")
    lag_count = sample("rolecall_schedule_lag_seconds_count", kind="reminder")
    lag_sum = sample("rolecall_schedule_lag_seconds_sum", kind="reminder")
    late = sample("rolecall_schedule_lag_seconds_bucket", kind="reminder", le="60.0")

    outcome = outbox(store, client).send(
        [Send("milestone:1", SendKind.REMINDER), Send("milestone:2", SendKind.REMINDER)],
        "CLAUNCH",
        render,
        due=NOW - timedelta(seconds=90),
    )

    assert outcome.posted
    assert sends("reminder", "posted") == posted + 2
    assert sample("rolecall_schedule_lag_seconds_count", kind="reminder") == lag_count + 1
    assert sample("rolecall_schedule_lag_seconds_sum", kind="reminder") == lag_sum + 90
    # 90 s late: beyond the 60 s bucket.
    assert sample("rolecall_schedule_lag_seconds_bucket", kind="reminder", le="60.0") == late


def test_sends_not_posted_are_counted_by_why() -> None:
    store = create_autospec(OutboxStore, instance=True)
    client = create_autospec(WebClient, instance=True)
    before = {
        outcome: sends("card", outcome)
        for outcome in ("queued", "skipped", "found_earlier", "failed", "posted")
    }
    lag = sample("rolecall_schedule_lag_seconds_count", kind="card")
    card = [Send("card:1:UALICE", SendKind.CARD)]

    outbox(store, client, allowed=False).send(card, "UALICE", render)
    store.claim.return_value = {}
    outbox(store, client).send(card, "UALICE", render)
    store.claim.return_value = {"card:1:UALICE": ["tagA"]}
    client.conversations_open.return_value = {"channel": {"id": "DALICE"}}
    client.conversations_history.return_value = {
        "messages": [
            {"ts": "9.9", "metadata": {"event_type": TAG_EVENT, "event_payload": {"tag": "tagA"}}}
        ]
    }
    outbox(store, client).send(card, "UALICE", render)
    store.claim.return_value = {"card:1:UALICE": []}
    client.chat_postMessage.side_effect = slack_error("channel_not_found")
    outbox(store, client).send(card, "UALICE", render)

    assert {outcome: sends("card", outcome) - count for outcome, count in before.items()} == {
        "queued": 1,
        "skipped": 1,
        "found_earlier": 1,
        "failed": 1,
        "posted": 0,
    }
    assert sample("rolecall_schedule_lag_seconds_count", kind="card") == lag  # not scheduled


def slack_error(code: str) -> SlackApiError:
    response = SlackResponse(
        client=None,
        http_verb="POST",
        api_url="https://slack.test/api/chat.postMessage",
        req_args={},
        data={"ok": False, "error": code},
        headers={},
        status_code=200,
    )
    return SlackApiError(code, response)  # type: ignore[no-untyped-call]


def test_reminders_are_due_at_nine_local_and_sent_with_the_earliest() -> None:
    planning = create_autospec(PlanningStore, instance=True)
    teams = create_autospec(TeamStore, instance=True)
    items = create_autospec(ItemStore, instance=True)
    store = create_autospec(OutboxStore, instance=True)
    box = create_autospec(Outbox, instance=True)
    teams.all_settings.return_value = {}
    teams.holders_by_channel.return_value = {}
    planning.milestones_due_by.return_value = []
    items.unacknowledged_blockers.return_value = []
    store.settled.return_value = set()
    planning.deadlines_due_by.return_value = [
        Deadline(
            id=1,
            team_channel_id="CLAUNCH",
            task="Ship the beta",
            due_date=date(2026, 12, 1),
            assignee_id="UCAROL",
            assignee_tz="America/New_York",
            created_by="UBOB",
            created_at=NOW - timedelta(days=7),
            scheduled_at=NOW - timedelta(days=7),
        )
    ]
    reminders = Reminders(planning, items, teams, store, box)
    at = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # 10:00 in New York

    planned = reminders.due(at)
    earlier = Planned("escalation:9:CLAUNCH", "UCAROL", "an escalation", at - timedelta(hours=3))
    reminders.send("UCAROL", [*planned, earlier], at)

    assert [p.due_at for p in planned] == [datetime(2026, 12, 1, 14, 0, tzinfo=UTC)]
    assert box.send.call_args.kwargs["due"] == at - timedelta(hours=3)


def test_a_tick_is_timed() -> None:
    cards = create_autospec(Cards, instance=True)
    notices = create_autospec(Notices, instance=True)
    reminders = create_autospec(Reminders, instance=True)
    digests = create_autospec(Digests, instance=True)
    for planner in (cards.owed, notices.owed, reminders.due, digests.due):
        planner.return_value = []
    before = sample("rolecall_tick_seconds_count")

    Ticker(cards, notices, reminders, digests).tick(NOW)

    assert sample("rolecall_tick_seconds_count") == before + 1


# Slack's 429s and retries


class Flaky(BaseHTTPRequestHandler):
    """Answers each path's first call with its status, then 200."""

    first: ClassVar[dict[str, int]] = {"/api/auth.test": 429, "/api/team.info": 503}
    seen: ClassVar[set[str]] = set()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", "0")))
        status = 200 if self.path in self.seen else self.first.get(self.path, 200)
        self.seen.add(self.path)
        body = json.dumps({"ok": status == 200}).encode()
        self.send_response(status)
        if status == 429:
            self.send_header("Retry-After", "0")
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        pass  # the test asserts on what the client did, not on an access log


@pytest.fixture
def flaky_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A Web API that rate-limits and fails once per method; the clients' waits are skipped."""
    no_wait = SimpleNamespace(sleep=lambda _: None)
    monkeypatch.setattr(builtin_handlers, "time", no_wait)
    monkeypatch.setattr(handler, "time", no_wait)
    Flaky.seen = set()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Flaky)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/api/"
    server.shutdown()
    server.server_close()


def test_429s_and_retries_are_counted(flaky_api: str) -> None:
    client = make_client("xoxb-metrics-test", flaky_api, timeout=5)
    limited = sample("rolecall_slack_rate_limited_total", method="auth.test")
    waited = sample("rolecall_slack_retries_total", reason="rate_limited")
    retried = sample("rolecall_slack_retries_total", reason="server_error")

    assert client.api_call("auth.test")["ok"]
    assert client.api_call("team.info")["ok"]

    assert sample("rolecall_slack_rate_limited_total", method="auth.test") == limited + 1
    assert sample("rolecall_slack_retries_total", reason="rate_limited") == waited + 1
    assert sample("rolecall_slack_retries_total", reason="server_error") == retried + 1
