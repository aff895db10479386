"""Acks have a pool of their own on PostgreSQL: work after acks (cards, webhooks) and scheduled
runs may hold every connection of the main pool, and a command still files and confirms within
its ack; its card follows once connections come back."""

import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import pytest
from sqlalchemy import Engine

from bot.workspaces import REFRESH
from handlers.runtime import Runtime, build_runtime
from handlers.settings import Settings
from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient
from storage.db import POOL_OVERFLOW, POOL_SIZE
from storage.models import Role
from storage.teams import TeamStore
from tests.conftest import ALICE, CAROL, SIGNING_SECRET, TEAM, FixedClock, in_process
from tests.handlers.scenario import cards, ephemerals, rendered

SLACK_GIVES_UP = 3.0  # seconds
CONFIRMATION = (
    "Filed in #launch's product manager queue and sent to @alice. "
    "You'll hear back when it's handled."
)


@pytest.fixture
def replica(settings: Settings, clock: FixedClock) -> Iterator[Runtime]:
    """A process as `rolecall serve` runs it (work after the ack on its own threads), with
    Alice as #launch's product manager (set without a command: no work is in flight)."""
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("SQLite has one pool: its writers queue on one lock anyway")
    runtime = build_runtime(settings, clock, sleep=lambda _: None)
    services = runtime.services
    TeamStore(services.db, services.workspace_id).assign(
        TEAM, ALICE, Role.PRODUCT, ALICE, clock.now
    )
    yield runtime
    runtime.close(grace=5)


@pytest.fixture
def to_replica(replica: Runtime, fake: FakeSlack) -> Iterator[SignedClient]:
    with SignedClient(
        "http://rolecall.test/slack/events",
        SIGNING_SECRET,
        fake,
        transport=in_process(replica.endpoint),
    ) as client:
        yield client


@contextmanager
def every_connection_held(main: Engine) -> Iterator[None]:
    """What busy work after acks and scheduled runs do to the main pool: hold all it has."""
    with ExitStack() as held:
        for _ in range(POOL_SIZE + POOL_OVERFLOW):
            held.enter_context(main.connect())
        assert main.pool.checkedout() == POOL_SIZE + POOL_OVERFLOW  # type: ignore[attr-defined]
        yield


def test_a_command_is_filed_and_confirmed_while_work_after_acks_holds_every_connection(
    replica: Runtime, to_replica: SignedClient, fake: FakeSlack
) -> None:
    main, ack_pool = replica.tenants.db.engines
    assert main is not ack_pool
    # A replica that has served a command before (what it knows of the workspace is fresh).
    assert to_replica.command("/feedback", "Dark mode", CAROL, TEAM).status_code == 200
    fake.wait_for(lambda: len(cards(fake, ALICE)) == 1)

    with every_connection_held(main):
        started = time.monotonic()
        response = to_replica.command("/feedback", "SSO for Acme", CAROL, TEAM)
        acked_in = time.monotonic() - started

        assert response.status_code == 200 and acked_in < SLACK_GIVES_UP
        assert ephemerals(fake, CAROL) == [CONFIRMATION, CONFIRMATION]  # not "still filing"
        assert len(cards(fake, ALICE)) == 1  # its card waits for a connection of the main pool

    fake.wait_for(lambda: len(cards(fake, ALICE)) == 2)
    assert "SSO for Acme" in rendered(fake, cards(fake, ALICE)[-1])
    assert len(ephemerals(fake, CAROL)) == 2  # no apology followed


def test_the_first_command_in_a_while_is_not_queued_behind_work_after_acks(
    replica: Runtime, to_replica: SignedClient, fake: FakeSlack, clock: FixedClock
) -> None:
    main = replica.tenants.db.engines[0]
    # Fail as soon as Slack would have: not after the pool's own 30 s.
    main.pool._timeout = SLACK_GIVES_UP  # type: ignore[attr-defined]
    assert to_replica.command("/feedback", "Dark mode", CAROL, TEAM).status_code == 200
    fake.wait_for(lambda: len(cards(fake, ALICE)) == 1)
    clock.now += REFRESH  # what the replica knows of its workspace is now stale

    with every_connection_held(main):
        response = to_replica.command("/feedback", "SSO for Acme", CAROL, TEAM)
        assert response.status_code == 200
        assert ephemerals(fake, CAROL) == [CONFIRMATION, CONFIRMATION]


def test_only_the_main_pool_plans_each_execution(replica: Runtime) -> None:
    """The outbox grows by thousands of rows within one scheduled run: a generic plan made on
    the nearly empty table would scan it. The ack pool's one-row statements keep generic
    plans, which save planning on every ack."""
    main, acks = replica.tenants.db.engines
    settings = {}
    for name, engine in (("main", main), ("acks", acks)):
        with engine.connect() as connection:
            settings[name] = connection.exec_driver_sql("SHOW plan_cache_mode").scalar()
    assert settings == {"main": "force_custom_plan", "acks": "auto"}
    assert acks.pool.size() < main.pool.size()  # type: ignore[attr-defined]
