"""Invitations repository. Functions join the caller's transaction; the caller commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.db.models import Invitation


async def add(session: AsyncSession, row: Invitation) -> None:
    session.add(row)


async def pending_by_hash(
    session: AsyncSession, token_hash: bytes, now: datetime
) -> Invitation | None:
    result = await session.exec(
        select(Invitation).where(
            Invitation.token_hash == token_hash,
            col(Invitation.accepted_at).is_(None),
            col(Invitation.expires_at) > now,
        )
    )
    return result.first()


async def accept(session: AsyncSession, token_hash: bytes, now: datetime) -> str | None:
    """Mark the invitation used, atomically (a compare-and-set on ``accepted_at``): its groups,
    or None when it was used, expired or never existed."""
    result = await session.exec(
        update(Invitation)
        .where(
            col(Invitation.token_hash) == token_hash,
            col(Invitation.accepted_at).is_(None),
            col(Invitation.expires_at) > now,
        )
        .values(accepted_at=now)
        .returning(col(Invitation.groups))
    )
    row = result.first()
    return None if row is None else str(row[0])


async def recent(session: AsyncSession, limit: int) -> list[Invitation]:
    result = await session.exec(
        select(Invitation).order_by(col(Invitation.created_at).desc()).limit(limit)
    )
    return list(result.all())
