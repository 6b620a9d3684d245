"""The async engine and session factory; one per app, created by ``create_app``."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

from sqlalchemy import event, text
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import PoolResetState
from sqlalchemy.util import await_
from sqlmodel.ext.asyncio.session import AsyncSession

from service.db import sqlite_reads
from service.db.pool import FairAsyncQueuePool


class DatabaseUnavailable(Exception):
    """The database could not be reached; the caller answers 503."""


# SQLSTATEs that mean "the server is not there for you right now", not "your query is wrong":
# class 08 (connection exception), 53 (insufficient resources: too many connections), 57P01-03
# (admin shutdown, crash shutdown, cannot connect now: a restart in progress).
_OUTAGE_STATES = ("08", "53", "57P01", "57P02", "57P03")
# OS errors about local files are bugs or misconfiguration, not a backend away.
_LOCAL_OS_ERRORS = (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError)


def is_database_outage(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is the database being unreachable, restarting or
    dropping the connection, as opposed to a bug or a constraint. Followed through SQLAlchemy's
    wrapper, the DB-API adapter and the driver's own exception."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, DatabaseUnavailable):
            return True
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, (InterfaceError, OperationalError, PoolTimeout)):
            return True
        if isinstance(current, OSError) and not isinstance(current, _LOCAL_OS_ERRORS):
            return True  # refused, reset, unreachable, timed out (asyncio may say errno None)
        state = getattr(current, "sqlstate", None)
        if isinstance(state, str) and state.startswith(_OUTAGE_STATES):
            return True
        if type(current).__name__ in {"ConnectionDoesNotExistError", "InterfaceError"}:
            return True
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    return False


# A pooled connection idle for longer than this is pinged before use (one round trip); one in
# steady use is not: a connection the server dropped meanwhile fails its statement, is counted
# a disconnect, and that invalidates the whole pool at once (every connection older than the
# failure reconnects on its next checkout), so one request at most meets it.
PING_AFTER_IDLE_SECONDS = 1.0


class Database:
    def __init__(self, url: str, pool_size: int = 20) -> None:
        self.url = url
        # Waiting requests get connections in the order they asked (service.db.pool).
        kwargs: dict[str, Any] = {"poolclass": FairAsyncQueuePool}
        if url.startswith("postgresql+asyncpg"):
            # Fail fast (503) when the database is unreachable instead of hanging a request
            # for asyncpg's default minute; the idle ping notices it coming back.
            kwargs["connect_args"] = {"timeout": 5}
            kwargs["pool_timeout"] = 10
            # Connections past pool_size are closed on checkin: a pool smaller than the
            # concurrency reconnects all the time. Opened lazily, so an idle server holds few.
            kwargs.update(pool_size=pool_size, max_overflow=pool_size // 2)
        if url.startswith("sqlite"):
            ensure_sqlite_dir(url)
            # One connection: SQLite has a single writer anyway, and connections competing for
            # the write lock wait in SQLite's busy handler (sleeps of up to 100 ms) instead of
            # queueing. The embedded default is one process, so this costs nothing in parallelism.
            kwargs.update(pool_size=1, max_overflow=0, pool_timeout=30)
            # The hot paths (service.db.hot) read on that one connection from the event loop's
            # thread, synchronously, while they hold it checked out: no one else can touch it
            # then, and each read is spared aiosqlite's two thread hops.
            kwargs["connect_args"] = {"check_same_thread": False}
            # Returned to the pool, the connection is rolled back only if a transaction is
            # open (a hot-path read leaves none): the reset's rollback is a thread hop too.
            kwargs["pool_reset_on_return"] = None
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if url.startswith("sqlite"):
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            event.listen(self.engine.sync_engine.pool, "reset", _sqlite_rollback_if_open)
        else:
            event.listen(self.engine.sync_engine, "handle_error", _protocol_broken_is_disconnect)
            event.listen(self.engine.sync_engine, "checkin", _idle_since)
            event.listen(self.engine.sync_engine, "checkout", _ping_if_idle)
            event.listen(self.engine.sync_engine.pool, "reset", _pg_rollback_if_open)
        self._sessions = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False
        )
        # The hot paths' own idle connections (``service.db.hot.connect``): checked out of this
        # engine's pool and kept between uses, at most ``hot_keep`` (none on SQLite, whose one
        # connection the ORM needs too); given back before the engine is disposed.
        self.hot_idle: list[Any] = []
        self.hot_keep = 0 if url.startswith("sqlite") else pool_size // 2
        # When the pool throws a connection away (a disconnect seen by the ORM, or by the hot
        # paths), connections kept before that moment are not trusted again: they go back to
        # the pool, whose checkout then reconnects the ones older than the disconnect.
        self.hot_stale_at = 0.0
        # The embedded default's hot-path reads, on a read-only connection of their own
        # (service.db.sqlite_reads); None on PostgreSQL.
        self.sqlite_reader = sqlite_reads.reader_for(url)
        if self.hot_keep:
            event.listen(self.engine.sync_engine.pool, "invalidate", self._hot_stale)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self._sessions() as session:
            yield session

    async def ping(self) -> None:
        """One trivial query on a fresh connection: raises when the database does not answer."""
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    def _hot_stale(self, *_args: Any) -> None:
        self.hot_stale_at = time.monotonic()

    async def dispose(self) -> None:
        while self.hot_idle:
            await self.hot_idle.pop().connection.close()
        if self.sqlite_reader is not None:
            self.sqlite_reader.close()
        await self.engine.dispose()


def _protocol_broken_is_disconnect(context: ExceptionContext) -> None:
    """When PostgreSQL ends a session (a restart, an admin terminating backends) while the
    connection is in use, asyncpg often reports it not as a closed connection but as
    ``InternalClientError: cannot switch to state N; another operation (M) is in progress``:
    its protocol is stuck half-way through the interrupted operation. The connection still
    says it is open, so SQLAlchemy would return it to the pool, and each later checkout
    would fail the same way. Counted as a disconnect instead, the connection is thrown away
    (and a pre-ping that meets it reconnects), so no request ever gets a broken one."""
    if type(context.original_exception).__name__ == "InternalClientError":
        context.is_disconnect = True


def _idle_since(_dbapi_connection: Any, record: Any) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """SQLAlchemy's ``pool_pre_ping``, but only for a connection that sat idle: raising
    ``DisconnectionError`` makes the pool replace it with a new one."""
    since = record.info.get("idle_since")
    if since is None or time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
        return
    try:
        dbapi_connection.ping()
    except Exception as exc:
        raise DisconnectionError("idle connection did not answer a ping") from exc


def ensure_sqlite_dir(url: str) -> None:
    path = url.split(":///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def sqlite3_of(dbapi_connection: Any) -> sqlite3.Connection:
    """The sqlite3 connection under SQLAlchemy's aiosqlite adapter."""
    return cast(sqlite3.Connection, dbapi_connection.driver_connection._conn)


# Before a connection goes back to the pool: roll back a transaction the driver still has
# open, whoever opened it. SQLAlchemy's own reset knows only the transactions it began, not one
# begun on the driver's connection (service.db.hot); on SQLite it is turned off (it would cost
# a thread hop on every return) and this is the reset.


def _sqlite_rollback_if_open(dbapi_connection: Any, _record: Any, state: PoolResetState) -> None:
    if state.asyncio_safe and sqlite3_of(dbapi_connection).in_transaction:
        dbapi_connection.rollback()


def _pg_rollback_if_open(dbapi_connection: Any, _record: Any, state: PoolResetState) -> None:
    driver = dbapi_connection.driver_connection  # asyncpg's
    # One SQLAlchemy began (its adapter's own) is left to SQLAlchemy's reset.
    if state.asyncio_safe and dbapi_connection._transaction is None and driver.is_in_transaction():
        await_(driver.execute("ROLLBACK"))


# The busy handler's wait for another process's write lock, and SQLite's default automatic
# checkpoint threshold (service.db.sqlite_writes turns both off around its own commits).
SQLITE_BUSY_TIMEOUT_MS = 5000
SQLITE_AUTOCHECKPOINT_PAGES = 1000


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # Cascading deletes need foreign keys on; WAL lets readers run beside the writer.
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # With WAL, NORMAL never corrupts the file; it only fsyncs at checkpoints, not every commit.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute(f"PRAGMA wal_autocheckpoint={SQLITE_AUTOCHECKPOINT_PAGES}")
    cursor.close()
