"""Grants repository: token families issued to clients (see ``models.Grant``). Functions join
the caller's transaction; the caller commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.db.models import Grant, OAuthClient, Session, User


async def add(session: AsyncSession, row: Grant) -> None:
    session.add(row)


async def revoke_by_gid(session: AsyncSession, gid: str, at: datetime) -> None:
    await session.exec(
        update(Grant)
        .where(col(Grant.gid) == gid, col(Grant.revoked_at).is_(None))
        .values(revoked_at=at)
    )


async def revoke_for_user(session: AsyncSession, user_id: int, at: datetime) -> None:
    await session.exec(
        update(Grant)
        .where(col(Grant.user_id) == user_id, col(Grant.revoked_at).is_(None))
        .values(revoked_at=at)
    )


async def standing(
    session: AsyncSession, *, gid: str | None = None, refresh_lookup: str | None = None
) -> tuple[Grant, OAuthClient, User | None, Session | None] | None:
    """A grant with its client, its user and the browser session it hangs on (one query)."""
    query = (
        select(Grant, OAuthClient, User, Session)
        .join(OAuthClient, col(OAuthClient.id) == col(Grant.client_pk))
        .outerjoin(User, col(User.id) == col(Grant.user_id))
        .outerjoin(Session, col(Session.sid) == col(Grant.sid))
    )
    if gid is not None:
        query = query.where(Grant.gid == gid)
    else:
        query = query.where(Grant.refresh_lookup == refresh_lookup)
    row = (await session.exec(query)).first()
    return (row[0], row[1], row[2], row[3]) if row else None


async def rotate_refresh(
    session: AsyncSession, pk: int, old_hash: bytes, new_hash: bytes, expires_at: datetime
) -> bool:
    """Compare-and-set on the stored hash: of two concurrent rotations of the same refresh
    token, exactly one updates the row (the other sees the new hash once the row lock is
    released and matches nothing)."""
    result = await session.exec(
        update(Grant)
        .where(
            col(Grant.id) == pk,
            col(Grant.refresh_hash) == old_hash,
            col(Grant.revoked_at).is_(None),
        )
        .values(refresh_hash=new_hash, refresh_expires_at=expires_at)
    )
    return result.rowcount == 1
