"""Shared fixtures: databases (SQLite always, PostgreSQL when TEST_POSTGRES_URL is set), the fake
Slack Web API, and the real app, driven in process (signed requests through its HTTP endpoint)
or served over HTTP on loopback."""

import os
import shutil
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, text
from sqlmodel import SQLModel

from bot.tick import Ticker
from handlers.runtime import Runtime, build_runtime, start_http
from handlers.services import Services
from handlers.settings import Settings
from handlers.web import Endpoint
from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient
from storage.db import Database, make_engine, migrate

SIGNING_SECRET = "test-signing-secret"
WORKSPACE = "T0001"  # the fake Slack's workspace: the bot token's, as auth.test says
TEAM = "CLAUNCH"
ALICE, BOB, CAROL, DAVE, ERIN = "UALICE", "UBOB", "UCAROL", "UDAVE", "UERIN"

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_POSTGRES_URL") else [])
TABLES = ", ".join(SQLModel.metadata.tables)  # every table: a test starts from none of its rows


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file; each test gets a copy (migrating per test costs ~0.3 s)."""
    path = tmp_path_factory.mktemp("template") / "rolecall.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def _postgres_engine() -> Iterator[Engine]:
    engine = make_engine(os.environ["TEST_POSTGRES_URL"])
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database: a fresh SQLite file, or PostgreSQL with its tables emptied."""
    if request.param == "sqlite":
        path = tmp_path / "rolecall.db"
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        return f"sqlite:///{path}"
    engine = request.getfixturevalue("_postgres_engine")
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))
    return str(engine.url.render_as_string(hide_password=False))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def db(engine: Engine) -> Database:
    return Database(engine)


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    """A fake workspace: #launch with five people; Dave is a workspace admin."""
    with FakeSlack() as slack:
        for user_id, name in [(ALICE, "alice"), (BOB, "bob"), (CAROL, "carol"), (ERIN, "erin")]:
            slack.add_user(user_id, name)
        slack.add_user(DAVE, "dave", is_admin=True)
        slack.add_channel(TEAM, "launch", [ALICE, BOB, CAROL, DAVE, ERIN])
        slack.add_channel("CQUEUE", "product-queue", [ALICE])
        yield slack
        # Invariants for every scenario: Slack never rejected a payload, nobody was pinged, and
        # every `<…>` the bot sent is one Slack understands.
        assert slack.rejected == [], [c.params for c in slack.rejected]
        assert slack.broadcasts == []
        assert slack.malformed == []  # e.g. a usage text with a raw `<name>` in it


class FixedClock:
    """The time every test runs at; tests move it, nothing sleeps. Starts Monday 30 Nov 2026
    08:00 UTC."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def settings(fake: FakeSlack, database_url: str) -> Settings:
    return Settings(
        slack_bot_token="xoxb-test-token",
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake.api_url,
        database_url=database_url,
    )


@pytest.fixture
def runtime(settings: Settings, clock: FixedClock) -> Iterator[Runtime]:
    """The app in this process: each request's work (cards, replies) is done before its
    response, and posts are paced without sleeping."""
    runtime = build_runtime(settings, clock, inline=True, sleep=lambda _: None)
    yield runtime
    runtime.close()


@pytest.fixture
def services(runtime: Runtime) -> Services:
    return runtime.services


@pytest.fixture
def ticker(services: Services) -> Ticker:
    return services.ticker


def in_process(endpoint: Endpoint) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        reply = endpoint.handle(
            request.method,
            request.url.path,
            request.url.query.decode(),
            {key.lower(): value for key, value in request.headers.items()},
            request.read(),
        )
        return httpx.Response(reply.status, content=reply.body, headers=reply.headers)

    return httpx.MockTransport(answer)


@pytest.fixture
def slack(runtime: Runtime, fake: FakeSlack) -> Iterator[SignedClient]:
    """Signed requests, as Slack sends them, answered in process by the same `Endpoint` that
    `rolecall serve` runs behind its HTTP server: the same bytes, without a socket."""
    client = SignedClient(
        "http://rolecall.test/slack/events",
        SIGNING_SECRET,
        fake,
        transport=in_process(runtime.endpoint),
    )
    yield client
    client.close()


@pytest.fixture
def server_url(settings: Settings, clock: FixedClock) -> Iterator[str]:
    """`rolecall serve`'s stack on loopback, as in production: acks first, work after."""
    server = start_http(settings, "127.0.0.1", 0, clock=clock, schedule=False)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.port}"
    server.stop()
    thread.join(timeout=5)


@pytest.fixture
def wire(server_url: str, fake: FakeSlack) -> Iterator[SignedClient]:
    """Signed requests over HTTP to the served app."""
    client = SignedClient(f"{server_url}/slack/events", SIGNING_SECRET, fake)
    yield client
    client.close()
