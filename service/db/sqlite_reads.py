"""Hot-path reads on the embedded default on a connection of their own, without the pool.

The embedded default's pool is one connection (``service.db.engine``), shared by the ORM and
the hot paths. A hot-path read (the client's row at the token endpoint, an API's, a refresh
token's grant) used to check that connection out of the engine's pool and in again: a queue
wait, three greenlet switches and a shielded task, about 90 us of CPU a read under load, more
than the read itself. These reads now run on a second sqlite3 connection that only reads
(``PRAGMA query_only``), on the event loop's thread, in autocommit: each read is its own
snapshot of what is committed, as a read on PostgreSQL is. In WAL mode a reader neither waits
for the writer nor holds it up, and between reads it holds no lock, so nothing the ORM does
(a write transaction, a checkpoint) is changed by it.

A read that would wait (SQLITE_BUSY: another process holds the database exclusively, or is
recovering its WAL) is not retried here: the caller sends it through the pool as before, where
it waits on aiosqlite's thread and the loop keeps turning. Writes and everything inside a
transaction stay on the pooled connection (``service.db.hot``, ``service.db.sqlite_writes``).

A/B on the embedded default (bench/compare.py, one core, old new new old, every response 200):
code exchange 1.07x, refresh 1.10x, client_credentials 1.18x.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import make_url

from service.spans import statement_span


def is_select(sql: str) -> bool:
    return sql.lstrip()[:6].upper() == "SELECT"


def would_wait(exc: sqlite3.OperationalError) -> bool:
    """SQLITE_BUSY or SQLITE_LOCKED (any extended code): another connection holds the lock."""
    return exc.sqlite_errorcode & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def reader_for(url: str) -> Reader | None:
    """A reader for a SQLite file database; None for anything else (PostgreSQL, and an
    in-memory SQLite database, which a second connection would not see)."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite"):
        return None
    path = parsed.database
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    return Reader(path)


class Reader:
    """One read-only sqlite3 connection, opened on first use."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self.reads = 0  # reads answered here (tests and benchmarks look at it)

    def _connection(self) -> sqlite3.Connection:
        conn = self._conn
        if conn is None:
            # Not bound to a thread: the app may be driven from another thread's loop (tests'
            # clients); it is only ever used by whichever loop serves, one read at a time.
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA query_only=ON")
            conn.execute("PRAGMA busy_timeout=0")
            self._conn = conn
        return conn

    def read_alone(self, sql: str, params: Sequence[Any]) -> list[Any] | None:
        """A SELECT's rows, or None when ``sql`` is not a SELECT or would have to wait for a
        lock (the caller then uses the pooled connection). The caller does not send one
        that belongs to a transaction of the pooled connection."""
        if not is_select(sql):
            return None
        with statement_span("sqlite", sql, "SELECT"):
            return self.read(sql, params)

    def read(self, sql: str, params: Sequence[Any]) -> list[Any] | None:
        """The statement's rows, or None when it would have to wait for a lock."""
        try:
            rows = self._connection().execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            if would_wait(exc):
                return None
            raise
        self.reads += 1
        return rows

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
