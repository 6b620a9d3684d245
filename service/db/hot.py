"""The hot paths' database access (the token endpoint, passkey sign-in): the driver's own
connection, taken from the engine's pool, without an ORM session, identity map or the
BEGIN/COMMIT pair around every use.

Each ``Statement`` is written once in PostgreSQL's ``$n`` placeholders (SQLite reads the same
text as ``?n``). On PostgreSQL it runs as an asyncpg prepared statement (cached per connection)
in autocommit: one statement, one round trip, atomic on its own. On the embedded default a read
outside a transaction runs on a read-only connection of its own (``service.db.sqlite_reads``)
and a write on the pool's connection where it lies idle, committed at once
(``service.db.sqlite_writes``). Parameters and columns go through the models' column types
(``UTCDateTime``, ``Uuid``...), so values read here equal values read by the ORM.

A connection that fails as an outage (the database restarting, a dropped socket) is thrown away
with every idle pooled connection, as SQLAlchemy treats a disconnect: ``DatabaseUnavailable``.

On PostgreSQL the hot paths keep a few connections checked out of the engine's pool between
uses (``connect``): taking one is a list pop instead of the async engine's checkout and checkin
(three greenlet switches and a shielded task, 54-66 us of CPU a use: ``bench/round_trips.py``)."""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from functools import cache
from typing import Any, TypeVar, cast

from pydantic_core import PydanticUndefined
from sqlalchemy import Column, Table
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import configure_mappers
from sqlalchemy.orm.instrumentation import manager_of_class
from sqlmodel import SQLModel

from service.db import sqlite_writes
from service.db.engine import (
    PING_AFTER_IDLE_SECONDS,
    Database,
    DatabaseUnavailable,
    is_database_outage,
    sqlite3_of,
)
from service.db.sqlite_reads import is_select
from service.db.sqlite_writes import write_on_idle
from service.spans import statement_span

Processor = Callable[[Any], Any] | None


def columns(model: type[SQLModel], *names: str) -> list[Column[Any]]:
    """The named columns of a model's table, in order (all of them without names)."""
    table = cast(Table, model.__table__)  # type: ignore[attr-defined]
    return [table.c[n] for n in names] if names else list(table.c)


def pg_placeholders(n: int, typed: Sequence[Column[Any]] = ()) -> str:
    """``$1, ..., $n``; with ``typed`` each cast to its column's type (``typed_param``)."""
    if not typed:
        return ", ".join(f"${i}" for i in range(1, n + 1))
    return ", ".join(typed_param(i, c) for i, c in enumerate(typed, 1))


def typed_param(n: int, column: Column[Any]) -> str:
    """``$n::TYPE``, the column's PostgreSQL type: a parameter in a SELECT list (``INSERT ...
    SELECT``) has no type to be inferred from. Without a length: a cast to VARCHAR(n) would
    truncate silently where the column refuses."""
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    pg_type = re.sub(r"\(\d+\)", "", column.type.compile(dialect=dialect))
    return f"${n}::{pg_type}"


def insert(model: type[SQLModel], names: Sequence[str]) -> Statement:
    """``INSERT INTO <table> (names) VALUES ($1, ...)``: the parameters in the order named."""
    table = columns(model)[0].table.name
    return Statement(
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({pg_placeholders(len(names))})",  # noqa: S608 (our own names)
        columns(model, *names),
    )


M = TypeVar("M", bound=SQLModel)


@cache
def _defaults(model: type[SQLModel]) -> dict[str, Any]:
    configure_mappers()  # once per model: its attributes work before any ORM query ran
    fields = model.model_fields.items()
    return {
        name: field.default
        for name, field in fields
        if field.default is not PydanticUndefined and field.default_factory is None
    }


def new_row(model: type[M], **values: Any) -> M:
    """A new row's object for a hot statement to write, made the way ``Statement.instances``
    makes a loaded one (the class manager's instance, the model's defaults and ``values`` put
    in place) without the constructor's validation and per-attribute events. Only for rows
    written here: an ORM session's unit of work would not see these attributes."""
    instance = manager_of_class(model).new_instance()
    instance.__dict__.update(_defaults(model))
    instance.__dict__.update(values)
    instance.__pydantic_fields_set__ = set(values)
    return instance


class Statement:
    """One SQL statement for both dialects. ``params`` are the columns its ``$n`` parameters
    are bound to, in order; ``returns`` the models whose whole rows it returns, in order,
    written ``{returns}`` in the SQL (a missing outer-joined row comes back as None), then one
    value for each of ``scalars``, written after them in the SQL, typed as that column."""

    def __init__(
        self,
        sql: str,
        params: Sequence[Column[Any]] = (),
        returns: Sequence[type[SQLModel]] = (),
        scalars: Sequence[Column[Any]] = (),
    ) -> None:
        self.models = tuple(returns)
        self._managers = [manager_of_class(model) for model in self.models]
        self._names = [tuple(c.name for c in columns(model)) for model in self.models]
        self.returns = [c for model in self.models for c in columns(model)]
        listed = ", ".join(f"{c.table.name}.{c.name}" for c in self.returns)
        self.returns += scalars
        sql = sql.replace("{returns}", listed)
        self.sql = {"postgresql": sql, "sqlite": re.sub(r"\$(\d+)", r"?\1", sql)}
        self.params = tuple(params)
        self._processors: dict[str, tuple[list[Processor], list[Processor]]] = {}

    def processors(self, dialect: Dialect) -> tuple[list[Processor], list[Processor]]:
        found = self._processors.get(dialect.name)
        if found is None:
            found = (
                [c.type.dialect_impl(dialect).bind_processor(dialect) for c in self.params],
                [
                    c.type.dialect_impl(dialect).result_processor(dialect, None)
                    for c in self.returns
                ],
            )
            self._processors[dialect.name] = found
        return found

    def instances(self, values: Sequence[Any]) -> tuple[Any, ...]:
        """The returned row as model instances (None for an outer join that found nothing),
        made the way the ORM makes a loaded row's object: the instance created by the class
        manager and its attributes put in place, without the constructor's validation and
        per-attribute events (76 -> 5 us a row; the values already went through the column
        types); then the scalars' values."""
        out: list[Any] = []
        at = 0
        for manager, names in zip(self._managers, self._names, strict=True):
            data = dict(zip(names, values[at : at + len(names)], strict=True))
            at += len(names)
            if data.get("id") is None:
                out.append(None)
                continue
            instance = manager.new_instance()
            instance.__dict__.update(data)
            instance.__pydantic_fields_set__ = set(names)
            out.append(instance)
        return (*out, *values[at:])


def _convert(processors: Sequence[Processor], values: Sequence[Any]) -> list[Any]:
    return [
        p(v) if p is not None and v is not None else v
        for p, v in zip(processors, values, strict=True)
    ]


class _Postgres:
    """asyncpg: each statement a prepared statement (cached per connection), autocommitted."""

    def __init__(self, driver: Any) -> None:
        self.driver = driver

    def transaction(self) -> Any:
        return self.driver.transaction()

    async def fetchrow(
        self, sql: str, params: list[Any], *, off_loop: bool = False
    ) -> Sequence[Any] | None:
        return cast(Sequence[Any] | None, await self.driver.fetchrow(sql, *params))

    async def execute(self, sql: str, params: list[Any]) -> int:
        # asyncpg answers the command tag: "UPDATE 1", "INSERT 0 1", "DELETE 3".
        status = await self.driver.execute(sql, *params)
        return int(status.rsplit(" ", 1)[-1])

    async def rollback(self) -> None:
        return None  # asyncpg's transaction block rolls back itself


class _Sqlite:
    """The pooled connection on SQLite. A read that the reader (``service.db.sqlite_reads``)
    did not answer, because it belongs to a transaction or would wait, goes through aiosqlite's
    thread; without a reader (an in-memory database) a read outside a transaction runs on the
    sqlite3 connection from the event loop's thread (the engine opens it with
    ``check_same_thread=False``; nothing else uses it while it is checked out). A write outside
    ``transaction()`` runs and commits on the loop's thread too, unless it would wait for
    another process's lock (``service.db.sqlite_writes``, which also keeps WAL checkpoints off
    this thread); that one, and writes in a transaction, go through aiosqlite's thread, where
    waiting for the lock (up to the 5 s busy timeout) or a checkpoint does not stop the loop."""

    def __init__(self, raw: Any) -> None:
        self.conn = sqlite3_of(raw)
        self.driver = raw.driver_connection  # aiosqlite's
        self.in_transaction = False

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        await self.driver.execute("BEGIN")
        self.in_transaction = True
        try:
            yield
        except BaseException:
            await self.driver.rollback()
            raise
        else:
            await self.driver.commit()
        finally:
            self.in_transaction = False

    async def fetchrow(
        self, sql: str, params: list[Any], *, off_loop: bool = False
    ) -> Sequence[Any] | None:
        with statement_span("sqlite", sql):
            if is_select(sql) and not self.in_transaction and not off_loop:
                rows = self.conn.execute(sql, params).fetchall()
            elif (done := await self._on_loop(sql, params)) is not None:
                rows = done[0]
            else:
                rows = await self.driver.execute_fetchall(sql, params)
                if not self.in_transaction:
                    await self.driver.commit()
        return cast(Sequence[Any], rows[0]) if rows else None

    async def execute(self, sql: str, params: list[Any]) -> int:
        with statement_span("sqlite", sql):
            if (done := await self._on_loop(sql, params)) is not None:
                return done[1]
            cursor = await self.driver.execute(sql, params)
            if not self.in_transaction:
                await self.driver.commit()
        return int(cursor.rowcount)

    async def _on_loop(self, sql: str, params: list[Any]) -> tuple[list[Any], int] | None:
        """A write outside a transaction, on this thread unless it would wait
        (``service.db.sqlite_writes``); None: it goes to aiosqlite's thread."""
        if self.in_transaction:
            return None
        done = sqlite_writes.try_write(self.conn, sql, params)
        if done is not None and sqlite_writes.checkpoint_due():
            # Read to the end: an unfinished statement fails every later commit ("in progress").
            await self.driver.execute_fetchall("PRAGMA wal_checkpoint(PASSIVE)")
        return done

    async def rollback(self) -> None:
        await self.driver.rollback()


class HotConnection:
    """One pooled connection, used through its driver. On the embedded default it is checked
    out of the pool only when a statement needs it: a read outside a transaction runs on the
    database's read-only connection (``service.db.sqlite_reads``) when it need not wait."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self.connection: AsyncConnection | None = None
        self.raw: Any = None
        self._dialect = dialect = db.engine.dialect
        self.dialect = dialect.name
        self._run: _Sqlite | _Postgres | None = None
        self.idle_since = 0.0

    async def _pooled(self) -> _Sqlite | _Postgres:
        """The pooled connection's runner, checked out of the engine's pool on first need."""
        if self._run is None:
            conn = await self._db.engine.connect()
            try:
                raw = await conn.get_raw_connection()
            except BaseException:
                await conn.close()
                raise
            self.connection, self.raw = conn, raw
            sqlite = self.dialect == "sqlite"
            self._run = _Sqlite(raw) if sqlite else _Postgres(raw.driver_connection)
        return self._run

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """Statements written together or not at all (asyncpg's transaction; an explicit
        BEGIN ... COMMIT on SQLite)."""
        async with (await self._pooled()).transaction():
            yield

    async def row(self, statement: Statement, *args: Any) -> tuple[Any, ...] | None:
        """The first row the statement returns, as its models' instances, or None."""
        binds, results = statement.processors(self._dialect)
        sql, params = statement.sql[self.dialect], _convert(binds, args)
        try:
            reader, run = self._db.sqlite_reader, self._run
            in_tx = isinstance(run, _Sqlite) and run.in_transaction
            rows = reader.read_alone(sql, params) if reader and not in_tx else None
            if rows is not None:
                found = rows[0] if rows else None
            else:  # with a reader, a read that reaches the pool would wait: off the loop
                found = await (await self._pooled()).fetchrow(sql, params, off_loop=bool(reader))
        except Exception as exc:
            await self._failed(exc)
            raise
        if found is None:
            return None
        return statement.instances(_convert(results, tuple(found)))

    async def execute(self, statement: Statement, *args: Any) -> int:
        """Run a statement that returns nothing; the number of rows it changed."""
        binds, _ = statement.processors(self._dialect)
        sql, params = statement.sql[self.dialect], _convert(binds, args)
        done = await write_on_idle(self._db, sql, params) if self._run is None else None
        if done is not None:  # the embedded default: its pool connection used where it lies
            return done
        try:
            return await (await self._pooled()).execute(sql, params)
        except Exception as exc:
            await self._failed(exc)
            raise

    async def _failed(self, exc: Exception) -> None:
        if self._run is None or self.connection is None:
            return  # the reader failed; no pooled connection was taken
        if isinstance(exc, sqlite3.Error):
            await self._run.rollback()
        if is_database_outage(exc) or type(exc).__name__ == "InternalClientError":
            # Untrusted, with the pool's idle ones and the ones kept here (opened to the same
            # server): SQLAlchemy's own answer to a disconnect.
            await self.connection.invalidate()
            while self._db.hot_idle:
                await self._db.hot_idle.pop().connection.invalidate()
            await self.connection.engine.dispose(close=False)
            raise DatabaseUnavailable(f"{type(exc).__name__}: {exc}") from exc


async def _kept(db: Database) -> HotConnection | None:
    """A kept connection used within ``PING_AFTER_IDLE_SECONDS``, and kept after the pool last
    threw a connection away, or None. An older one goes back to the pool marked with its real
    idle time, so the checkout that follows pings it (``service.db.engine._ping_if_idle``) as
    it would have pinged it there, or reconnects it after a disconnect."""
    now = time.monotonic()
    while db.hot_idle:
        hot: HotConnection = db.hot_idle.pop()
        conn = cast(AsyncConnection, hot.connection)  # kept ones were checked out
        if (
            now - hot.idle_since < PING_AFTER_IDLE_SECONDS
            and hot.idle_since > db.hot_stale_at
            and not conn.invalidated
        ):
            return hot
        info = hot.raw.info
        await conn.close()
        info["idle_since"] = hot.idle_since
    return None


def _keep(db: Database, hot: HotConnection) -> bool:
    """Keep a connection that ended cleanly, outside a transaction, while there is room (never
    on SQLite, where ``hot_keep`` is 0)."""
    if len(db.hot_idle) >= db.hot_keep or cast(AsyncConnection, hot.connection).invalidated:
        return False
    if hot.raw.driver_connection.is_in_transaction():
        return False
    hot.idle_since = time.monotonic()
    db.hot_idle.append(hot)
    return True


@asynccontextmanager
async def connect(db: Database) -> AsyncIterator[HotConnection]:
    """A connection from the same pool as the ORM's sessions, used through its driver: a kept
    one when there is one (PostgreSQL), otherwise a checkout. After a clean use it is kept for
    the next (up to ``db.hot_keep``); after an error, or past that number, it goes back to the
    pool, whose checkin resets it."""
    hot = await _kept(db) if db.hot_idle else None
    if hot is None:
        hot = HotConnection(db)
        if db.sqlite_reader is None:  # else checked out when a statement needs it
            await hot._pooled()
    try:
        yield hot
    except BaseException:
        if hot.connection is not None:
            await hot.connection.close()
        raise
    if hot.connection is not None and not _keep(db, hot):
        await hot.connection.close()
