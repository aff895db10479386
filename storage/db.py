"""Engines, migrations, and the `Database` every store runs its transactions through."""

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from importlib.resources import files
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlmodel import Session, SQLModel, create_engine

# Any constant works; it only has to be the same for every replica racing to migrate.
_MIGRATION_LOCK_KEY = 0x524F4C45


class UnassignedRows(RuntimeError):
    """The database holds rows from before workspaces were stored, and nobody said whose."""


def make_engine(url: str) -> Engine:
    """Create an engine tuned for a threaded server on either SQLite or PostgreSQL."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=40
        )
        event.listen(engine, "connect", _tune_sqlite)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers run beside the writer; NORMAL sync is durable across app crashes."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


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
    """One engine and the rules for using it: short transactions, detached objects for callers,
    and one writer at a time on SQLite (queueing writers on a lock here beats SQLite's busy-wait
    backoff by far; PostgreSQL needs no such lock)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._write_lock: AbstractContextManager[object] = (
            threading.Lock() if engine.dialect.name == "sqlite" else nullcontext()
        )

    def session(self) -> Session:
        """A session for reads; objects it returns stay usable after it closes."""
        return Session(self.engine, expire_on_commit=False)

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A session for one write transaction; the caller commits."""
        with self._write_lock, self.session() as session:
            yield session

    @contextmanager
    def fast_write(self) -> Iterator[Connection]:
        """A Core transaction for hot paths (no ORM unit of work); commits on exit."""
        with self._write_lock, self.engine.begin() as connection:
            yield connection

    def insert_or_skip(self, table: type[SQLModel]) -> Any:
        """An INSERT that skips rows whose key exists (ON CONFLICT DO NOTHING) in this dialect."""
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        return dialect.insert(table)
