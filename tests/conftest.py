"""Shared fixtures: databases (SQLite always, PostgreSQL when TEST_POSTGRES_URL is set), the fake
Slack Web API, and the real app served over HTTP on loopback."""

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from bot.cli import start_http
from bot.config import Settings
from bot.fake_slack import FakeSlack, SignedClient
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
        # Invariants for every scenario: Slack never rejected a payload, nobody was pinged.
        assert slack.rejected == [], [c.params for c in slack.rejected]
        assert slack.broadcasts == []


@pytest.fixture
def server_url(fake: FakeSlack, database_url: str) -> Iterator[str]:
    settings = Settings(
        slack_bot_token="xoxb-test-token",
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake.api_url,
        database_url=database_url,
    )
    server = start_http(settings, "127.0.0.1", 0)
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


def texts(items: list[Any]) -> list[str]:
    return [getattr(i, "text", None) or i.get("text", "") for i in items]
