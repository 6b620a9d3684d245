"""The embedded default's hot-path writes on the event loop's thread (``service.db.sqlite_writes``):
never while another process holds the write lock (they go to aiosqlite's thread and wait there,
the loop keeps running), and the WAL they grow is checkpointed."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table, text

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
