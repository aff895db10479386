"""What went to the database, for tests and benches: the statements SQLAlchemy ran, the
transactions it began, the connections it checked out and, on PostgreSQL, every message of the
protocol (libpq's trace of each connection while it was checked out), attributed to a path of
the caller's choosing (`bench/round_trips.py`: the ack, or the work after it)."""

import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, event


@dataclass
class Wire:
    statements: list[tuple[str, str, bool]] = field(default_factory=list)  # path, SQL, autocommit
    transactions: list[str] = field(default_factory=list)  # path of each BEGIN SQLAlchemy made
    checkouts: list[str] = field(default_factory=list)  # path of each connection checkout
    traces: list[tuple[str, list[str]]] = field(default_factory=list)  # path, protocol lines
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def sql(self, path: str | None = None) -> list[str]:
        return [sql for at, sql, _ in self.statements if path in (None, at)]

    def autocommit(self, path: str | None = None) -> list[bool]:
        return [auto for at, _, auto in self.statements if path in (None, at)]

    def round_trips(self, path: str | None = None) -> int:
        """One per ReadyForQuery the server sent: each ends one round trip."""
        return sum("\tReadyForQuery\t" in line for line in self._lines(path))

    def queries(self, path: str | None = None) -> list[str]:
        """Simple-protocol queries (how psycopg sends BEGIN, COMMIT and ROLLBACK)."""
        return [line for line in self._lines(path) if "\tQuery\t" in line]

    def clear(self) -> None:
        with self._lock:
            self.statements.clear()
            self.transactions.clear()
            self.checkouts.clear()
            self.traces.clear()

    def _lines(self, path: str | None) -> Iterator[str]:
        return (line for at, lines in self.traces if path in (None, at) for line in lines)


@contextmanager
def watching(engines: list[Engine], path: Callable[[], str] = lambda: "") -> Iterator[Wire]:
    """Record what `engines` send while the block runs; `path()` names the work doing it."""
    wire = Wire()
    open_traces: dict[int, tuple[str, Any]] = {}
    folder = tempfile.TemporaryDirectory()

    def statement(conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        autocommit = bool(getattr(conn.connection.driver_connection, "autocommit", False))
        with wire._lock:
            wire.statements.append((path(), sql, autocommit))

    def begin(_conn: Any) -> None:
        with wire._lock:
            wire.transactions.append(path())

    def checkout(dbapi_connection: Any, *_: Any) -> None:
        with wire._lock:
            wire.checkouts.append(path())
        if hasattr(dbapi_connection, "pgconn"):  # PostgreSQL (psycopg)
            trace = tempfile.TemporaryFile(dir=folder.name)  # noqa: SIM115 - closed at checkin
            open_traces[id(dbapi_connection)] = (path(), trace)
            dbapi_connection.pgconn.trace(trace.fileno())

    def checkin(dbapi_connection: Any, *_: Any) -> None:
        opened = open_traces.pop(id(dbapi_connection), None)
        if opened is None:
            return
        at, trace = opened
        dbapi_connection.pgconn.untrace()
        trace.seek(0)
        lines = [line.decode(errors="replace") for line in trace]
        trace.close()
        with wire._lock:
            wire.traces.append((at, lines))

    listeners: list[tuple[Any, str, Callable[..., None]]] = []
    for engine in engines:
        listeners += [(engine, "before_cursor_execute", statement), (engine, "begin", begin)]
        listeners += [(engine.pool, "checkout", checkout), (engine.pool, "checkin", checkin)]
    with ExitStack() as cleanup:
        cleanup.callback(folder.cleanup)
        for target, name, listener in listeners:
            event.listen(target, name, listener)
            cleanup.callback(event.remove, target, name, listener)
        yield wire
