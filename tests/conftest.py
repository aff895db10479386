"""Shared fixtures: databases (SQLite always, PostgreSQL when TEST_POSTGRES_URL is set), the fake
Slack Web API, and the real app served over HTTP on loopback."""

import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from bot.cli import build_ticker, start_http
from bot.config import Settings
from bot.fake_slack import FakeSlack, SignedClient
from bot.ticker import Pacer, Ticker
from storage.db import make_engine, migrate
from storage.store import Store

SIGNING_SECRET = "test-signing-secret"
TEAM = "CLAUNCH"
ALICE, BOB, CAROL, DAVE, ERIN = "UALICE", "UBOB", "UCAROL", "UDAVE", "UERIN"

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_POSTGRES_URL") else [])


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
        url = f"sqlite:///{tmp_path / 'rolecall.db'}"
        engine = make_engine(url)
        migrate(engine)
        engine.dispose()
        return url
    engine = request.getfixturevalue("_postgres_engine")
    with engine.begin() as connection:
        connection.execute(
            text(
                "TRUNCATE item, item_vote, delivery, role_assignment, team_settings, milestone, "
                "deadline, scheduled_send, "
                "processed_event RESTART IDENTITY CASCADE"
            )
        )
    return str(engine.url.render_as_string(hide_password=False))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def store(engine: Engine) -> Store:
    return Store(engine)


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
def ticker(settings: Settings, clock: FixedClock) -> Iterator[Ticker]:
    """The time loop on the test's database and clock; paced without sleeping."""
    ticker = build_ticker(settings, clock)
    ticker.pacer = Pacer(sleep=lambda _: None)
    yield ticker
    ticker.store.engine.dispose()


@pytest.fixture
def server_url(settings: Settings, clock: FixedClock) -> Iterator[str]:
    server = start_http(settings, "127.0.0.1", 0, clock=clock, schedule=False)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.port}"
    server.stop()
    thread.join(timeout=5)


@pytest.fixture
def slack(server_url: str, fake: FakeSlack) -> Iterator[SignedClient]:
    client = SignedClient(f"{server_url}/slack/events", SIGNING_SECRET, fake)
    yield client
    client.close()
