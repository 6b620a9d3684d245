"""Audit events repository."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.db.hot import HotConnection
from service.db.hot import insert as hot_insert
from service.db.models import AuditEvent, User

_RECORDED = ("at", "kind", "user_id", "actor", "ip", "user_agent", "detail")
_INSERT = hot_insert(AuditEvent, _RECORDED)


async def add(session: AsyncSession, row: AuditEvent) -> None:
    """Joins the caller's transaction: the event is kept if and only if what it records is."""
    session.add(row)


async def insert(conn: HotConnection, row: AuditEvent) -> None:
    """``add`` on the driver's connection (service.db.hot), in the caller's transaction."""
    await conn.execute(_INSERT, *(getattr(row, name) for name in _RECORDED))


async def search(
    session: AsyncSession,
    *,
    user_id: int | None = None,
    kind: str | None = None,
    since: datetime | None = None,
    limit: int = 50,
) -> list[tuple[AuditEvent, User | None]]:
    query = (
        select(AuditEvent, User)
        .outerjoin(User, col(User.id) == col(AuditEvent.user_id))
        .order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
        .limit(limit)
    )
    if user_id is not None:
        query = query.where(AuditEvent.user_id == user_id)
    if kind is not None:
        query = query.where(AuditEvent.kind == kind)
    if since is not None:
        query = query.where(col(AuditEvent.at) >= since)
    return [(event, user) for event, user in (await session.exec(query)).all()]


async def count_by_kind(
    session: AsyncSession, kinds: tuple[str, ...], since: datetime
) -> dict[str, int]:
    """How many events of each of these kinds since then (the audit index on ``at``)."""
    query = (
        select(AuditEvent.kind, func.count())
        .where(col(AuditEvent.kind).in_(kinds), col(AuditEvent.at) >= since)
        .group_by(AuditEvent.kind)
    )
    found = {kind: int(n) for kind, n in (await session.exec(query)).all()}
    return {kind: found.get(kind, 0) for kind in kinds}
