"""Email outbox repository (a durable queue, ``service.db.queue``)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from service.db import queue
from service.db.models import OutboxEmail


async def add(session: AsyncSession, row: OutboxEmail) -> None:
    """Joins the caller's transaction: the mail is queued if and only if the change that
    caused it commits."""
    session.add(row)


async def claim_due(session: AsyncSession, now: datetime, limit: int) -> list[OutboxEmail]:
    return await queue.claim_due(session, OutboxEmail, now, limit)


async def lease(session: AsyncSession, pk: int, until: datetime) -> None:
    await queue.lease(session, OutboxEmail, pk, until)


async def remove(session: AsyncSession, pk: int) -> None:
    await queue.remove(session, OutboxEmail, pk)


async def retry_later(session: AsyncSession, pk: int, at: datetime, error: str) -> None:
    await queue.retry_later(session, OutboxEmail, pk, at, error)


async def pending(session: AsyncSession) -> list[OutboxEmail]:
    return await queue.pending(session, OutboxEmail)
