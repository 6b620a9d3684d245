"""The embedded default's hot-path reads on a read-only connection of their own
(``service.db.sqlite_reads``): they do not wait for the pool's one connection, see what is
committed and nothing else, never write, and leave to the pooled connection a read that belongs
to a transaction or would wait for a lock."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from service.db import apis, hot
from service.db.engine import Database
from service.db.models import Api
from service.db.sqlite_reads import Reader, reader_for

NAMES = ["api_id", "name", "audience", "scopes", "secret_hash", "created_at"]
INSERT = hot.insert(Api, NAMES)
NOW = datetime(2026, 12, 4, tzinfo=UTC)


def api(name: str) -> Api:
    return Api(
        api_id=name, name=name, audience=f"https://{name}.example", scopes="read",
        secret_hash=b"h" * 32, created_at=NOW,
    )  # fmt: skip


def values(name: str) -> list[object]:
    row = api(name)
    return [getattr(row, n) for n in NAMES]


async def found(conn: hot.HotConnection, name: str) -> str | None:
    """The API's name as the token endpoint's hot read finds it, or None."""
    row = await asyncio.wait_for(apis.find(conn, f"https://{name}.example"), 5)
    return None if row is None else row.name


async def database(tmp_path: Path) -> Database:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'reads.db'}")
    async with db.engine.begin() as conn:
        await conn.run_sync(lambda sync: Api.__table__.create(sync))  # type: ignore[attr-defined]
    async with db.session() as session:
        session.add(api("a"))
        await session.commit()
    return db


def reads(db: Database) -> int:
    assert db.sqlite_reader is not None
    return db.sqlite_reader.reads


async def test_a_read_does_not_wait_for_the_pooled_connection_and_sees_only_what_is_committed(
    tmp_path,
):
    db = await database(tmp_path)
    try:
        # The pool's one connection is taken, in a write transaction not yet committed (an
        # ORM session, say). A read through the pool would wait for it (30 s).
        async with db.session() as held:
            held.add(api("b"))
            await held.flush()
            async with hot.connect(db) as conn:
                assert await found(conn, "a") == "a"
                assert await found(conn, "b") is None
            await held.commit()
        async with hot.connect(db) as conn:
            assert await found(conn, "b") == "b"
        assert reads(db) == 3
    finally:
        await db.dispose()


async def test_writes_and_a_transaction_s_reads_use_the_pooled_connection(tmp_path):
    db = await database(tmp_path)
    try:
        async with hot.connect(db) as conn:
            assert await conn.execute(INSERT, *values("c")) == 1
            assert reads(db) == 0
            assert await found(conn, "c") == "c"  # committed: the reader sees it
            assert reads(db) == 1
            async with conn.transaction():
                await conn.execute(INSERT, *values("d"))
                # Not committed yet: only the transaction's own connection sees it.
                assert await found(conn, "d") == "d"
            assert reads(db) == 1
        assert db.sqlite_reader is not None
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            db.sqlite_reader.read("DELETE FROM apis", [])
        async with db.engine.connect() as conn:
            names = (await conn.execute(text("SELECT name FROM apis ORDER BY id"))).scalars()
            assert list(names) == ["a", "c", "d"]
    finally:
        await db.dispose()


async def test_a_read_that_would_wait_for_a_lock_is_left_to_the_pool(tmp_path):
    db = await database(tmp_path)
    # A database another connection holds exclusively (rollback journal: readers are locked
    # out; in WAL mode that happens only while a WAL is recovered, too briefly to test).
    locked_path = tmp_path / "locked.db"
    holder = sqlite3.connect(locked_path, isolation_level=None)
    holder.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    holder.execute("BEGIN EXCLUSIVE")
    locked = Reader(str(locked_path))
    try:
        assert locked.read("SELECT 1 FROM t", []) is None  # at once, no busy wait
        assert db.sqlite_reader is not None
        db.sqlite_reader.close()
        db.sqlite_reader = locked
        async with hot.connect(db) as conn:
            # The reader is busy: the pooled connection (the real database) answers.
            assert await found(conn, "a") == "a"
        assert locked.reads == 0
        holder.execute("COMMIT")
        assert locked.read("SELECT count(*) FROM t", []) == [(0,)]
    finally:
        holder.close()
        await db.dispose()


def test_only_a_sqlite_file_gets_a_reader(tmp_path):
    assert reader_for(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}") is not None
    assert reader_for("sqlite+aiosqlite:///:memory:") is None
    assert reader_for("postgresql+asyncpg://127.0.0.1/test") is None
