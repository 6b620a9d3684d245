"""The hot paths' kept connections (``service.db.hot.connect``): on PostgreSQL a connection that
ended a use cleanly is kept for the next one instead of going back through the async engine's
checkout; one that failed, or sat idle past the ping threshold, is not trusted as it is. On the
embedded default nothing is kept (its one connection is the ORM's too)."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from service.db import hot
from service.db.engine import PING_AFTER_IDLE_SECONDS, Database, DatabaseUnavailable
from tests.conftest import PG_ADMIN_URL

SELECT_ONE = hot.Statement("SELECT 1")


async def backend_pid(db: Database) -> int:
    async with hot.connect(db) as conn:
        await conn.execute(SELECT_ONE)
        return int(await conn.raw.driver_connection.fetchval("SELECT pg_backend_pid()"))


async def terminate(pid: int) -> None:
    admin = await asyncpg.connect(PG_ADMIN_URL)
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()
    await asyncio.sleep(0.1)  # the server has closed the socket


async def test_a_clean_use_is_kept_an_error_is_not_and_dispose_gives_all_back(backend):
    db = Database(backend.database_url)
    try:
        async with hot.connect(db) as first:
            assert await first.execute(SELECT_ONE) in (-1, 1)
        if backend.name == "embedded":
            assert db.hot_keep == 0 and db.hot_idle == []
            assert db.engine.pool.checkedout() == 0  # back in the pool at once
            return
        assert db.hot_idle == [first]
        async with hot.connect(db) as second:
            assert second is first and db.hot_idle == []
        with pytest.raises(RuntimeError):
            async with hot.connect(db) as third:
                assert third is first
                raise RuntimeError("a failed use")
        assert db.hot_idle == []
        assert db.engine.pool.checkedout() == 0  # the failed one went back through the pool
        async with hot.connect(db) as one, hot.connect(db) as two:
            assert one is not two
        assert len(db.hot_idle) == 2 and db.engine.pool.checkedout() == 2
    finally:
        await db.dispose()
    assert db.hot_idle == [] and db.engine.pool.checkedout() == 0


async def test_a_kept_connection_the_server_ended(backend):
    """Used again at once, it fails as an outage (503) and every kept one is thrown away, so
    the use after it runs on a new connection; idle past the threshold, it goes back to the
    pool, whose checkout pings it and replaces it without any use failing."""
    if backend.name == "embedded":
        db = Database(backend.database_url)
        await every_use_a_checkout(db)
        return
    db = Database(backend.database_url)
    try:
        pid = await backend_pid(db)
        await terminate(pid)
        with pytest.raises(DatabaseUnavailable):
            async with hot.connect(db) as conn:
                await conn.execute(SELECT_ONE)
        assert db.hot_idle == []
        second = await backend_pid(db)
        assert second != pid

        await asyncio.sleep(PING_AFTER_IDLE_SECONDS + 0.2)
        await terminate(second)
        third = await backend_pid(db)  # no error: pinged at checkout, replaced
        assert third not in (pid, second)
    finally:
        await db.dispose()


async def every_use_a_checkout(db: Database) -> None:
    """The embedded default: every use a checkout of the one connection, none kept."""
    try:
        for _ in range(3):
            async with hot.connect(db) as conn:
                await conn.execute(SELECT_ONE)
            assert db.hot_idle == [] and db.engine.pool.checkedout() == 0
    finally:
        await db.dispose()


async def test_kept_connections_are_not_trusted_after_the_orm_saw_a_disconnect(backend):
    """The database restarted (every backend ended) and an ORM query met it first: the next
    hot use does not take the kept connection, which died with the rest, but a new one."""
    db = Database(backend.database_url)
    if backend.name == "embedded":
        await every_use_a_checkout(db)
        return
    try:
        kept = await backend_pid(db)
        async with db.engine.connect() as orm:
            orm_pid = (await orm.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            assert orm_pid != kept
            await terminate(kept)
            await terminate(orm_pid)
            with pytest.raises(DBAPIError) as failed:
                await orm.execute(text("SELECT 1"))
            assert failed.value.connection_invalidated
        fresh = await backend_pid(db)  # no error: the kept one went back and was replaced
        assert fresh not in (kept, orm_pid)
    finally:
        await db.dispose()
