"""Email outbox repository."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.db.models import OutboxEmail


async def add(session: AsyncSession, row: OutboxEmail) -> None:
    """Joins the caller's transaction: the mail is queued if and only if the change that
    caused it commits."""
    session.add(row)


async def claim_due(session: AsyncSession, now: datetime, limit: int) -> list[OutboxEmail]:
    """Due messages, locked for this sender until its transaction ends. On PostgreSQL other
    senders skip locked rows, so several instances never send the same message twice."""
    query = (
        select(OutboxEmail)
        .where(col(OutboxEmail.next_attempt_at) <= now)
        .order_by(col(OutboxEmail.id))
        .limit(limit)
    )
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list((await session.exec(query)).all())


async def lease(session: AsyncSession, pk: int, until: datetime) -> None:
    await session.exec(
        update(OutboxEmail).where(col(OutboxEmail.id) == pk).values(next_attempt_at=until)
    )


async def remove(session: AsyncSession, pk: int) -> None:
    await session.exec(delete(OutboxEmail).where(col(OutboxEmail.id) == pk))


async def retry_later(session: AsyncSession, pk: int, at: datetime, error: str) -> None:
    await session.exec(
        update(OutboxEmail)
        .where(col(OutboxEmail.id) == pk)
        .values(next_attempt_at=at, attempts=OutboxEmail.attempts + 1, last_error=error[:200])
    )


async def pending(session: AsyncSession) -> list[OutboxEmail]:
    return list((await session.exec(select(OutboxEmail).order_by(col(OutboxEmail.id)))).all())
