"""Durable queues in a table (the email outbox, logout deliveries): rows with ``id``,
``next_attempt_at``, ``attempts`` and ``last_error``, claimed by whichever instance's sender
gets there first, leased while it works, retried with backoff, deleted when done."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import update
from sqlmodel import SQLModel, col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

Row = TypeVar("Row", bound=SQLModel)


async def claim_due(
    session: AsyncSession, model: type[Row], now: datetime, limit: int
) -> list[Row]:
    """Due rows, locked for this sender until its transaction ends. On PostgreSQL other
    senders skip locked rows, so several instances never take the same row twice."""
    table: Any = model
    query = (
        select(model).where(col(table.next_attempt_at) <= now).order_by(col(table.id)).limit(limit)
    )
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list((await session.exec(query)).all())


async def lease(session: AsyncSession, model: type[SQLModel], pk: int, until: datetime) -> None:
    table: Any = model
    await session.exec(update(table).where(col(table.id) == pk).values(next_attempt_at=until))


async def remove(session: AsyncSession, model: type[SQLModel], pk: int) -> None:
    table: Any = model
    await session.exec(delete(table).where(col(table.id) == pk))


async def retry_later(
    session: AsyncSession, model: type[SQLModel], pk: int, at: datetime, error: str
) -> None:
    table: Any = model
    await session.exec(
        update(table)
        .where(col(table.id) == pk)
        .values(next_attempt_at=at, attempts=table.attempts + 1, last_error=error[:200])
    )


async def pending(session: AsyncSession, model: type[Row]) -> list[Row]:
    table: Any = model
    return list((await session.exec(select(model).order_by(col(table.id)))).all())
