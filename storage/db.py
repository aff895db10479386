"""Engines, migrations, and the `Database` every store runs its transactions through."""

import select
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from importlib.resources import files
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, event, exc, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlmodel import Session, SQLModel, create_engine

# Any constant works; it only has to be the same for every replica racing to migrate.
_MIGRATION_LOCK_KEY = 0x524F4C45


class UnassignedRows(RuntimeError):
    """The database holds rows from before workspaces were stored, and nobody said whose."""


# PostgreSQL connections of a process: its main pool (work after acks, scheduled runs) and
# the pool of acks (one statement each, so few): at most 16 + 8 = 24 per process.
POOL_SIZE = 8
POOL_OVERFLOW = 8
ACK_POOL_SIZE = 4
ACK_POOL_OVERFLOW = 4

_ACKING: ContextVar[bool] = ContextVar("acking", default=False)


def make_engine(url: str, *, for_acks: bool = False) -> Engine:
    """Create an engine tuned for a threaded server on either SQLite or PostgreSQL.

    PostgreSQL connections are not pinged on checkout (a round trip each time): a connection
    whose server closed it (a restart, an idle timeout) has something to read on its socket,
    and is replaced when it is checked out. A connection that dies in use fails its
    statement; work before an ack is then retried once (`handlers.after_ack`).

    `for_acks`: the smaller pool of the work acks wait for. Its few statements keep
    PostgreSQL's generic plans (planning is most of the cost of a one-row statement, and the
    tables they read change slowly); the main pool plans each execution (`_plan_each_execution`).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=40
        )
        event.listen(engine, "connect", _tune_sqlite)
        event.listen(engine, "connect", _unicode_lower)
        return engine
    if for_acks:
        engine = create_engine(url, pool_size=ACK_POOL_SIZE, max_overflow=ACK_POOL_OVERFLOW)
    else:
        engine = create_engine(url, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW)
        event.listen(engine, "connect", _plan_each_execution)
    event.listen(engine, "checkout", _closed_by_server)
    return engine


def _plan_each_execution(dbapi_connection: Any, _record: Any) -> None:
    """Plan every execution of a prepared statement for its own parameters and the tables as
    they are now. psycopg prepares a statement after a few runs; a generic plan made while a
    table was small (a fresh install, the outbox at the start of a large run) would scan it
    once it is large, and one made for a small workspace would serve a large one."""
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET plan_cache_mode = force_custom_plan")
    dbapi_connection.commit()


def _closed_by_server(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Refuse an idle connection its server has written to: PostgreSQL writes only when asked,
    except to say it is closing the connection. The pool then opens a new one."""
    poll = select.poll()
    poll.register(dbapi_connection.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
    if poll.poll(0):
        raise exc.DisconnectionError("the server closed this idle connection")


def is_disconnect(error: BaseException) -> bool:
    """Whether `error` is a connection that died in use (the statement may be retried on a
    new one, which the pool now gives)."""
    return isinstance(error, exc.DBAPIError) and error.connection_invalidated


@contextmanager
def acking(flag: bool = True) -> Iterator[None]:
    """Mark work someone's ack waits for (or, with False, work after it): on PostgreSQL its
    connections come from a pool that work after acks and scheduled runs never hold."""
    token = _ACKING.set(flag)
    try:
        yield
    finally:
        _ACKING.reset(token)


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers run beside the writer; NORMAL sync is durable across app crashes."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _unicode_lower(dbapi_connection: Any, _record: Any) -> None:
    """SQLite's own lower() folds ASCII letters only: a search for "ÉCOLE" (lowered to "école"
    in Python) would miss "ÉCOLE" as filed. Python's folds every letter, as PostgreSQL's does.
    No index is on lower(), so no plan changes; a search scans a team's queue anyway."""
    dbapi_connection.create_function("lower", 1, _lower, deterministic=True)


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def alembic_config(engine: Engine, workspace_id: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("storage") / "migrations"))
    config.attributes["engine"] = engine
    config.attributes["workspace_id"] = workspace_id
    return config


def migrate(engine: Engine, workspace_id: str | None = None) -> None:
    """Bring the schema to the newest revision; safe when several replicas start at once.

    `workspace_id` (single-token mode) is the workspace rows from before workspaces were
    stored belong to."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
            try:
                command.upgrade(alembic_config(engine, workspace_id), "head")
            finally:
                connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": _MIGRATION_LOCK_KEY}
                )
                connection.commit()
        return
    command.upgrade(alembic_config(engine, workspace_id), "head")


def ping(engine: Engine) -> None:
    """Raise if the database cannot answer a trivial query."""
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


class Database:
    """The engines and the rules for using them: short transactions, detached objects for
    callers, one writer at a time on SQLite (queueing writers on a lock here beats SQLite's
    busy-wait backoff by far; PostgreSQL needs no such lock), and, given `ack_engine`, a pool
    of its own for the work acks wait for (see `acking`).

    Reads and single-statement writes run in autocommit: on PostgreSQL a statement is then one
    round trip, without a BEGIN and a COMMIT (or ROLLBACK) around it."""

    def __init__(self, engine: Engine, ack_engine: Engine | None = None) -> None:
        self._engines = {False: engine, True: ack_engine or engine}
        self._autocommit = {
            acking: chosen.execution_options(isolation_level="AUTOCOMMIT")
            for acking, chosen in self._engines.items()
        }
        self._write_lock: AbstractContextManager[object] = (
            threading.Lock() if engine.dialect.name == "sqlite" else nullcontext()
        )

    @property
    def engine(self) -> Engine:
        """The engine for this work: the ack pool's while acking, else the main one."""
        return self._engines[_ACKING.get()]

    @property
    def dialect(self) -> str:
        return self._engines[False].dialect.name

    @property
    def engines(self) -> list[Engine]:
        """Every engine (for disposal and instrumentation): the main one first."""
        main, ack = self._engines[False], self._engines[True]
        return [main] if ack is main else [main, ack]

    def dispose(self) -> None:
        for engine in self.engines:
            engine.dispose()

    def session(self) -> Session:
        """A session for reads (autocommit); objects it returns stay usable after it closes."""
        return Session(self._autocommit[_ACKING.get()], expire_on_commit=False)

    def reading(self) -> Connection:
        """A Core connection for reads (autocommit: each query is one round trip)."""
        return self._autocommit[_ACKING.get()].connect()

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A session for one write transaction; the caller commits."""
        with self._write_lock, Session(self.engine, expire_on_commit=False) as session:
            yield session

    def add_new(self, row: SQLModel) -> bool:
        """Store a row (its id filled in); False, storing nothing, when one of its unique keys
        is taken: a name or a URL a team already has, a role someone already holds."""
        with self.writing() as session:
            session.add(row)
            try:
                session.commit()
            except exc.IntegrityError:
                return False
        return True

    @contextmanager
    def fast_write(self) -> Iterator[Connection]:
        """A Core transaction for hot paths (no ORM unit of work); commits on exit."""
        with self._write_lock, self.engine.begin() as connection:
            yield connection

    @contextmanager
    def autocommit(self) -> Iterator[Connection]:
        """A Core connection whose every statement commits itself: for a write that is one
        statement (one round trip on PostgreSQL, nothing to roll back)."""
        with self._write_lock, self._autocommit[_ACKING.get()].connect() as connection:
            yield connection

    def insert_or_skip(self, table: type[SQLModel]) -> Any:
        """This dialect's INSERT, which can skip rows whose key exists (`on_conflict_do_nothing`,
        added by the caller with the key it means)."""
        dialect = postgresql if self.dialect == "postgresql" else sqlite
        return dialect.insert(table)
