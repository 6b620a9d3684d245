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


def grant_end() -> ColumnElement[Any]:
    """When a grant's refresh token lapses (it never outlives the grant), or the grant itself
    for one without; migration 0009 indexes this very expression."""
    return func.coalesce(GRANTS.c.refresh_expires_at, GRANTS.c.expires_at)


# The conditions, one per kind of row, each answerable from an index (migration 0009).
def sessions_expiring_before(cutoff: datetime) -> ColumnElement[bool]:
    return SESSIONS.c.expires_at < cutoff


def sessions_seen_before(cutoff: datetime) -> ColumnElement[bool]:
    return SESSIONS.c.last_seen_at < cutoff


def grants_ending_before(cutoff: datetime) -> ColumnElement[bool]:
    return grant_end() < cutoff


def audit_events_before(cutoff: datetime) -> ColumnElement[bool]:
    return AUDIT_EVENTS.c.at < cutoff


# pg_try_advisory_lock's key: the same number in every replica ("sesame sweep" as 8 bytes).
_LOCK_KEY = int.from_bytes(b"sesameSW", "big") & 0x7FFF_FFFF_FFFF_FFFF


async def try_lock(conn: AsyncConnection) -> bool:
    """A session-level advisory lock on PostgreSQL (released by ``unlock`` or when the
    connection closes, so a replica that dies mid-sweep never leaves it held); SQLite has no
    other replica to exclude."""
    if conn.dialect.name != "postgresql":
        return True
    got = (await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": _LOCK_KEY})).scalar()
    await conn.commit()
    return bool(got)


async def unlock(conn: AsyncConnection) -> None:
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _LOCK_KEY})
        await conn.commit()


async def delete_batch(
    conn: AsyncConnection, table: Table, where: ColumnElement[bool], batch: int
) -> int:
    """Delete up to ``batch`` rows of ``table`` matching ``where``; committed. How many went."""
    ids = select(table.c.id).where(where).limit(batch).scalar_subquery()
    result: Any = await conn.execute(delete(table).where(table.c.id.in_(ids)))
    await conn.commit()
    return int(result.rowcount or 0)


async def count(conn: AsyncConnection, table: Table, where: ColumnElement[bool]) -> int:
    found = (await conn.execute(select(func.count()).select_from(table).where(where))).scalar()
    await conn.rollback()
    return int(found or 0)


async def table_rows(conn: AsyncConnection, table: Table) -> int:
    found = (await conn.execute(select(func.count()).select_from(table))).scalar()
    await conn.rollback()
    return int(found or 0)
