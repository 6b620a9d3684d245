"""The embedded default's hot-path writes on the event loop's thread (``service.db.sqlite_writes``):
never while another process holds the write lock (they go to aiosqlite's thread and wait there,
the loop keeps running), and the WAL they grow is checkpointed."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, event, text

from service.db import hot, sqlite_writes
from service.db.engine import SQLITE_BUSY_TIMEOUT_MS, Database, sqlite3_of

ROWS = Table("t", MetaData(), Column("id", Integer, primary_key=True), Column("v", String))
INSERT = hot.Statement("INSERT INTO t (v) VALUES ($1)", [ROWS.c.v])


async def database(tmp_path: Path) -> tuple[Database, Path]:
    path = tmp_path / "writes.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    async with db.engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
    return db, path


def size(file: Path) -> int:
    return file.stat().st_size


async def count(db: Database) -> int:
    async with db.engine.connect() as conn:
        return int((await conn.execute(text("SELECT count(*) FROM t"))).scalar_one())


async def test_a_write_waits_for_another_process_s_lock_off_the_event_loop(tmp_path):
    db, path = await database(tmp_path)
    other = sqlite3.connect(path, isolation_level=None)  # a CLI command, say
    try:
        other.execute("BEGIN IMMEDIATE")  # holds the write lock

        async def write() -> int:
            async with hot.connect(db) as conn:
                return await conn.execute(INSERT, "waited")

        loop = asyncio.get_running_loop()
        pending = asyncio.create_task(write())
        gaps, last = [], loop.time()
        for _ in range(20):  # the loop keeps turning while the write waits for the lock
            await asyncio.sleep(0.01)
            gaps.append(loop.time() - last)
            last = loop.time()
        assert not pending.done()
        # Not a speed bound: a write waiting on the loop's thread would stall it for the
        # whole busy timeout (5 s) before giving up; here no turn took even half of it.
        assert max(gaps) < SQLITE_BUSY_TIMEOUT_MS / 2000, gaps
        other.execute("COMMIT")
        assert await pending == 1
        assert await count(db) == 1
        async with db.engine.connect() as conn:  # the busy timeout is the usual one again
            raw = sqlite3_of(await conn.get_raw_connection())
            assert raw.execute("PRAGMA busy_timeout").fetchone()[0] == SQLITE_BUSY_TIMEOUT_MS
    finally:
        other.close()
        await db.dispose()


async def test_the_wal_that_writes_on_the_loop_grow_is_checkpointed(tmp_path, monkeypatch):
    monkeypatch.setattr(sqlite_writes, "CHECKPOINT_EVERY", 20)
    db, path = await database(tmp_path)
    wal = Path(f"{path}-wal")
    try:
        async with hot.connect(db) as conn:
            for n in range(20):
                assert await conn.execute(INSERT, f"row {n}") == 1
        one_round = size(wal)
        async with hot.connect(db) as conn:
            for _ in range(400):
                await conn.execute(INSERT, "x" * 200)
        assert await count(db) == 420
        # Checkpointed every 20 commits, the WAL is reused from its start: without the
        # checkpoints, 400 more commits would have made it about twenty times larger.
        assert size(wal) <= 3 * max(one_round, 4 * 4096), (one_round, size(wal))
    finally:
        await db.dispose()


def checkouts_of(db: Database) -> list[int]:
    """A counter of the pool's checkouts, kept up to date by the pool's own event."""
    seen = [0]

    def counted(*_args: object) -> None:
        seen[0] += 1

    event.listen(db.engine.sync_engine.pool, "checkout", counted)
    return seen


async def test_a_write_uses_the_idle_connection_where_it_lies(tmp_path):
    db, _ = await database(tmp_path)
    checkouts = checkouts_of(db)
    try:
        for n in range(10):
            async with hot.connect(db) as conn:
                assert await conn.execute(INSERT, f"row {n}") == 1
        assert await count(db) == 10
        assert checkouts[0] == 1  # count()'s own, not one per write
    finally:
        await db.dispose()


async def test_a_write_waits_for_an_orm_transaction_and_is_not_part_of_it(tmp_path):
    db, _ = await database(tmp_path)
    try:
        async with db.session() as session:
            await (await session.connection()).execute(
                text("INSERT INTO t (v) VALUES ('rolled back')")
            )

            async def write() -> int:
                async with hot.connect(db) as conn:
                    return await conn.execute(INSERT, "written")

            pending = asyncio.create_task(write())
            for _ in range(5):
                await asyncio.sleep(0.01)
            assert not pending.done()  # the session holds the connection and its transaction
            await session.rollback()
        assert await pending == 1
        async with db.engine.connect() as conn:
            rows = (await conn.execute(text("SELECT v FROM t"))).scalars().all()
        assert rows == ["written"]
    finally:
        await db.dispose()


async def test_writes_go_back_to_the_idle_connection_after_a_checkpoint(tmp_path, monkeypatch):
    # A checkpoint holds the connection out while concurrent writes arrive; a queue formed in
    # the pool then would hand it on from waiter to waiter and every later write would check
    # it out too.
    monkeypatch.setattr(sqlite_writes, "CHECKPOINT_EVERY", 10)
    db, _ = await database(tmp_path)
    checkouts = checkouts_of(db)

    async def write(n: int) -> int:
        async with hot.connect(db) as conn:
            return await conn.execute(INSERT, f"row {n}")

    try:
        for start in range(0, 200, 20):
            assert await asyncio.gather(*(write(n) for n in range(start, start + 20))) == [1] * 20
        assert await count(db) == 200
        # One checkout per checkpoint (every tenth write), none for the writes in between.
        assert checkouts[0] <= 200 // 10 + 1, checkouts[0]
    finally:
        await db.dispose()


async def test_a_write_on_a_pool_without_a_connection_yet_makes_one(tmp_path):
    db, _ = await database(tmp_path)
    await db.engine.dispose()  # the pool starts again from nothing
    try:
        async with hot.connect(db) as conn:
            assert await conn.execute(INSERT, "first") == 1
        assert await count(db) == 1
    finally:
        await db.dispose()


async def test_a_failing_write_leaves_no_transaction_open(tmp_path):
    db, _ = await database(tmp_path)
    duplicate = hot.Statement("INSERT INTO t (id, v) VALUES ($1, $2)", [ROWS.c.id, ROWS.c.v])
    try:
        async with hot.connect(db) as conn:
            assert await conn.execute(duplicate, 1, "one") == 1
        with pytest.raises(sqlite3.IntegrityError):
            async with hot.connect(db) as conn:
                await conn.execute(duplicate, 1, "again")
        async with hot.connect(db) as conn:
            assert await conn.execute(INSERT, "after") == 1
        async with db.engine.connect() as conn:
            raw = sqlite3_of(await conn.get_raw_connection())
            assert not raw.in_transaction
        assert await count(db) == 2
    finally:
        await db.dispose()
