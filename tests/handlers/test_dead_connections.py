"""Connections that die: PostgreSQL terminates the app's idle connections (a restart, a failover,
an idle timeout) and the next command is served on new ones as if nothing happened; and a
connection that dies in use is retried once, before the ack and after it."""

import json
import logging
import re
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
from slack_bolt import Ack, BoltContext, Respond
from sqlalchemy import Engine, event, exc, text
from sqlmodel import select

from bot.blocks.common import Message
from handlers.after_ack import AfterAck, Answer
from handlers.runtime import Runtime
from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient
from storage.db import Database, make_engine
from storage.models import Item
from tests.conftest import ALICE, CAROL, TEAM
from tests.handlers.scenario import cards, command, ephemerals, rendered, set_up_team

FAILED = "I couldn't store it: the database isn't answering."
SLOW = "still working on it"


def postgres_only(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL terminates connections; SQLite has none to lose")


def backend_pids(engine: Engine) -> list[int]:
    """The server processes of every connection idle in `engine`'s pool (each checked out at
    once, so each is a pooled one, then given back)."""
    idle: int = engine.pool.checkedin()  # type: ignore[attr-defined]
    with ExitStack() as held:
        connections = [held.enter_context(engine.connect()) for _ in range(idle)]
        drivers: list[Any] = [c.connection.driver_connection for c in connections]
        return [driver.info.backend_pid for driver in drivers]


def terminate(database_url: str, pids: list[int]) -> None:
    """What a restart or an administrator does to these connections, from a connection of our
    own; returns once each server process is gone (its goodbye is then on the socket)."""
    admin = make_engine(database_url)
    try:
        with admin.connect() as connection:
            for pid in pids:
                gone = connection.execute(
                    text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid}
                ).scalar_one()
                assert gone, f"backend {pid} still running"
    finally:
        admin.dispose()


@contextmanager
def invalidations(engines: list[Engine]) -> Iterator[dict[Engine, list[BaseException]]]:
    """Why each engine's pool threw connections away while watched."""
    seen: dict[Engine, list[BaseException]] = {engine: [] for engine in engines}
    listeners = []
    for engine in engines:

        def invalidated(_dbapi: Any, _record: Any, error: Any, engine: Engine = engine) -> None:
            seen[engine].append(error)

        event.listen(engine.pool, "invalidate", invalidated)
        listeners.append((engine.pool, invalidated))
    try:
        yield seen
    finally:
        for pool, listener in listeners:
            event.remove(pool, "invalidate", listener)


def test_commands_after_the_server_closed_every_idle_connection_are_served_as_usual(
    runtime: Runtime,
    slack: SignedClient,
    fake: FakeSlack,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    postgres_only(database_url)
    db = runtime.tenants.db
    assert len(db.engines) == 2  # the main pool and the acks'
    set_up_team(slack, fake)
    command(slack, fake, "/feedback", "SSO for Acme", CAROL)
    fake.wait_for(lambda: len(cards(fake, ALICE)) == 1)
    pids = [pid for engine in db.engines for pid in backend_pids(engine)]
    assert all(backend_pids(engine) for engine in db.engines), "both pools hold connections"

    terminate(database_url, pids)
    with invalidations(db.engines) as seen, caplog.at_level(logging.WARNING):
        reply = command(slack, fake, "/feedback", "Dark mode", CAROL)
        fake.wait_for(lambda: len(cards(fake, ALICE)) == 2)

    assert reply.startswith("Filed in #launch's product manager queue and sent to @alice"), reply
    assert "Dark mode" in rendered(fake, cards(fake, ALICE)[-1])
    with db.session() as session:
        texts = [item.text for item in session.exec(select(Item))]
    assert sorted(texts) == ["Dark mode", "SSO for Acme"]
    # Each pool found its dead connections when handing them out, before any statement.
    for engine in db.engines:
        assert seen[engine], "a dead connection was handed out and not found"
        assert all(isinstance(error, exc.DisconnectionError) for error in seen[engine]), seen
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
    # None of the app's connections is one the server closed.
    alive = {pid for engine in db.engines for pid in backend_pids(engine)}
    assert alive and not alive & set(pids)


# A connection that dies in use ---------------------------------------------------------------


def died_in_use() -> exc.OperationalError:
    return exc.OperationalError(
        "SELECT 1",
        {},
        Exception("server closed the connection unexpectedly"),
        connection_invalidated=True,
    )


class Flaky:
    """Work before an ack that fails with `errors` first, one per call, then answers `reply`;
    notes on which engine each call ran."""

    def __init__(self, db: Database, *errors: Exception, reply: str = "filed") -> None:
        self.db = db
        self.errors = list(errors)
        self.reply = reply
        self.engines: list[Engine] = []

    def __call__(self) -> Answer:
        self.engines.append(self.db.engine)
        if self.errors:
            raise self.errors.pop(0)
        return Answer(Message(self.reply, []))


@pytest.fixture
def two_pools(tmp_path: Path) -> Iterator[tuple[Database, Engine, Engine]]:
    main, ack = make_engine(f"sqlite:///{tmp_path}/a.db"), make_engine(f"sqlite:///{tmp_path}/b.db")
    yield Database(main, ack), main, ack
    main.dispose()
    ack.dispose()


class Told:
    """A context's `respond`: what the person was told after the ack."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def __call__(self, text: str = "", **_: Any) -> None:
        self.texts.append(text)


def answer(work: Any, told: Told | None = None) -> Ack:
    """Ack a `/feedback` with what `work` answers, as a listener does; after-ack work inline."""
    after_ack = AfterAck(threads=2, inline=True)
    ack = Ack()  # type: ignore[no-untyped-call]
    context = BoltContext({"respond": told or Told()})
    try:
        after_ack.answer(
            ack,
            Respond(response_url=None),
            {"command": "/feedback"},
            context,
            work,
            slow=SLOW,
            failed=FAILED,
        )
    finally:
        after_ack.shutdown(timeout=5)
    return ack


def acked_text(ack: Ack) -> str:
    assert ack.response is not None, "never acked"
    body = ack.response.body
    if body and ack.response.headers["content-type"][0].startswith("application/json"):
        return str(json.loads(body)["text"])
    return body  # Bolt acks a bare text as the text itself


def test_work_before_the_ack_whose_connection_died_is_retried_once_on_the_ack_pool(
    two_pools: tuple[Database, Engine, Engine],
) -> None:
    db, main, ack_engine = two_pools
    flaky = Flaky(db, died_in_use(), reply="filed, second try")
    ack = answer(flaky)

    assert acked_text(ack) == "filed, second try"
    assert flaky.engines == [ack_engine, ack_engine]
    assert main is not ack_engine


def test_work_before_the_ack_that_dies_twice_is_reported_as_not_stored(
    two_pools: tuple[Database, Engine, Engine], caplog: pytest.LogCaptureFixture
) -> None:
    db, _, ack_engine = two_pools
    flaky = Flaky(db, died_in_use(), died_in_use(), died_in_use())
    with caplog.at_level(logging.ERROR):
        ack = answer(flaky)

    assert acked_text(ack) == FAILED
    assert flaky.engines == [ack_engine, ack_engine]  # tried twice, never a third time
    assert "the database failed before the ack" in caplog.text


def test_a_database_error_that_is_not_a_dead_connection_is_not_retried(
    two_pools: tuple[Database, Engine, Engine],
) -> None:
    db, _, _ = two_pools
    refused = exc.IntegrityError("INSERT", {}, Exception("duplicate key"))
    flaky = Flaky(db, refused)
    ack = answer(flaky)

    assert acked_text(ack) == FAILED
    assert len(flaky.engines) == 1


def test_work_after_the_ack_whose_connection_died_is_not_run_again(
    two_pools: tuple[Database, Engine, Engine], caplog: pytest.LogCaptureFixture
) -> None:
    """Work after an ack is not safe to run twice (a deadline added twice, a digest posted
    twice): on the main pool, once, and the person hears what was done."""
    db, main, _ = two_pools
    told = Told()
    calls: list[Engine] = []

    def then() -> None:
        calls.append(db.engine)
        raise died_in_use()

    with caplog.at_level(logging.ERROR):
        ack = answer(lambda: Answer(then=then, apology="your card will follow"), told)

    assert acked_text(ack) == ""
    assert calls == [main]
    assert told.texts == ["your card will follow"]


# A connection that dies after the filing committed, before its answer came back -------------

FILING = re.compile(r"\bINSERT INTO item\b")  # the filing statement (not item_vote's inserts)


@contextmanager
def answer_lost_once(engine: Engine, statement: re.Pattern[str]) -> Iterator[list[str]]:
    """The first statement on `engine` matching `statement` runs (and, in autocommit, commits),
    then its connection dies before the answer arrives: the caller sees a dead connection and
    cannot tell whether the statement took effect. Yields the statements it did this to."""
    lost: list[str] = []

    def die_after(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        if not lost and statement.search(sql):
            lost.append(sql)
            raise exc.OperationalError(
                "stmt", {}, Exception("server closed the connection"), connection_invalidated=True
            )

    event.listen(engine, "after_cursor_execute", die_after)
    try:
        yield lost
    finally:
        event.remove(engine, "after_cursor_execute", die_after)


def test_a_command_whose_filing_committed_but_whose_answer_was_lost_is_confirmed_once(
    runtime: Runtime,
    slack: SignedClient,
    fake: FakeSlack,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    postgres_only(database_url)
    db = runtime.tenants.db
    set_up_team(slack, fake)
    seen = len(ephemerals(fake, CAROL))

    with answer_lost_once(db.engines[1], FILING) as lost, caplog.at_level(logging.WARNING):
        response = slack.command("/feedback", "SSO for Acme", CAROL, TEAM)  # its card inline

    assert len(lost) == 1, "the filing statement's answer was never lost"
    # The retry found the item the first try stored and answered as that try would have.
    assert response.status_code == 200
    told = ephemerals(fake, CAROL)[seen:]
    assert len(told) == 1, told
    assert told[0].startswith("Filed in #launch's product manager queue and sent to @alice"), told
    assert FAILED not in told[0] and SLOW not in told[0]
    with db.session() as session:
        stored = list(session.exec(select(Item)))
    assert [item.text for item in stored] == ["SSO for Acme"]
    assert stored[0].request_id is not None
    [card] = cards(fake, ALICE)
    assert "SSO for Acme" in rendered(fake, card)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
