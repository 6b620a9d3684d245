"""Signing keys repository."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.db.models import SigningKey


async def add(session: AsyncSession, row: SigningKey) -> None:
    """Joins the caller's transaction; the caller commits."""
    session.add(row)


async def current(session: AsyncSession) -> list[SigningKey]:
    """Keys not retired (signing now or about to)."""
    result = await session.exec(select(SigningKey).where(col(SigningKey.retired_at).is_(None)))
    return list(result.all())


async def retire_current(session: AsyncSession, *, at: datetime) -> None:
    await session.exec(
        update(SigningKey).where(col(SigningKey.retired_at).is_(None)).values(retired_at=at)
    )


async def published(session: AsyncSession, retired_after: datetime) -> list[SigningKey]:
    """Keys still in JWKS: current ones, and retired ones whose tokens may still be alive."""
    result = await session.exec(
        select(SigningKey)
        .where(
            or_(
                col(SigningKey.retired_at).is_(None),
                col(SigningKey.retired_at) > retired_after,
            )
        )
        .order_by(col(SigningKey.id))
    )
    return list(result.all())
