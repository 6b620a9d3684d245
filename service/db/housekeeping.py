"""Housekeeping's statements: bounded deletes, counts, and the lock that lets one replica
sweep at a time. Each delete removes at most ``batch`` rows found through an index range scan
(``DELETE ... WHERE id IN (SELECT id ... WHERE <indexed condition> LIMIT n)``) and is committed
on its own, so no statement holds locks on many rows for long."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from service.db.models import AuditEvent, Grant, Session


def _table(model: Any) -> Table:
    return cast(Table, model.__table__)


SESSIONS, GRANTS, AUDIT_EVENTS = _table(Session), _table(Grant), _table(AuditEvent)


# The time each kind of row is judged by, each indexed (migration 0009; audit_events.at).
SESSION_END = SESSIONS.c.expires_at
SESSION_SEEN = SESSIONS.c.last_seen_at
# When a grant's refresh token lapses (it never outlives the grant), or the grant itself for
# one without: migration 0009 indexes this very expression.
GRANT_END = func.coalesce(GRANTS.c.refresh_expires_at, GRANTS.c.expires_at)
AUDIT_AT = AUDIT_EVENTS.c.at


# pg_try_advisory_lock's key: the same number in every replica ("sesameSW" as 8 bytes).
_LOCK_KEY = int.from_bytes(b"sesameSW", "big") & 0x7FFF_FFFF_FFFF_FFFF


async def try_lock(conn: AsyncConnection) -> bool:
    """A session-level advisory lock on PostgreSQL (released by ``unlock`` or when the
    connection closes, so a replica that dies mid-sweep never leaves it held); SQLite has no
    other replica to exclude."""
    if conn.dialect.name != "postgresql":
        return True
    query = text("SELECT pg_try_advisory_lock(:k)")
    got = (await conn.execute(query, {"k": _LOCK_KEY})).scalar()
    await conn.commit()
    return bool(got)


async def unlock(conn: AsyncConnection) -> None:
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _LOCK_KEY})
        await conn.commit()


def _oldest(table: Table, key: ColumnElement[Any], cutoff: datetime, batch: int) -> Any:
    """The ids of up to ``batch`` rows whose ``key`` is before ``cutoff``, oldest first: the
    ORDER BY makes the plan an index range scan from the index's start even when nearly every
    row matches (without it PostgreSQL picks a sequential scan, which must step over the rows
    earlier batches left dead, more at every batch, until a vacuum)."""
    return select(table.c.id).where(key < cutoff).order_by(key).limit(batch).scalar_subquery()


async def delete_batch(
    conn: AsyncConnection, table: Table, key: ColumnElement[Any], cutoff: datetime, batch: int
) -> int:
    """Delete up to ``batch`` rows of ``table`` whose ``key`` is before ``cutoff``; committed.
    How many went."""
    result: Any = await conn.execute(
        delete(table).where(table.c.id.in_(_oldest(table, key, cutoff, batch)))
    )
    await conn.commit()
    return int(result.rowcount or 0)


async def count(
    conn: AsyncConnection, table: Table, key: ColumnElement[Any], cutoff: datetime
) -> int:
    query = select(func.count()).select_from(table).where(key < cutoff)
    found = (await conn.execute(query)).scalar()
    await conn.rollback()
    return int(found or 0)
