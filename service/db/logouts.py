"""Logout deliveries repository (OpenID Connect Back-Channel Logout 1.0): which clients are
owed a logout token when sessions end. Queued in the caller's transaction, so a token is owed
if and only if the sign-out commits; delivered through ``service.db.queue``."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.db.models import Grant, LogoutDelivery, OAuthClient, User


async def owe_for_sessions(
    session: AsyncSession, at: datetime, *, sid: str | None = None, user_id: int | None = None
) -> int:
    """One delivery per client with a logout URI and per session it holds a grant from: the
    session ``sid``, or every session of ``user_id``. Returns how many were queued."""
    owed = (
        select(Grant.client_pk, User.public_id, Grant.sid)
        .join(OAuthClient, col(OAuthClient.id) == col(Grant.client_pk))
        .join(User, col(User.id) == col(Grant.user_id))
        .where(col(OAuthClient.backchannel_logout_uri) != "", col(Grant.sid).is_not(None))
        .distinct()
    )
    if sid is not None:
        owed = owed.where(col(Grant.sid) == sid)
    if user_id is not None:
        owed = owed.where(col(Grant.user_id) == user_id)
    rows = (await session.exec(owed)).all()
    for client_pk, public_id, grant_sid in rows:
        session.add(
            LogoutDelivery(
                client_pk=client_pk,
                subject=str(public_id),
                sid=grant_sid,
                created_at=at,
                next_attempt_at=at,
            )
        )
    return len(rows)


async def with_client(session: AsyncSession, pk: int) -> tuple[LogoutDelivery, OAuthClient] | None:
    row = (
        await session.exec(
            select(LogoutDelivery, OAuthClient)
            .join(OAuthClient, col(OAuthClient.id) == col(LogoutDelivery.client_pk))
            .where(col(LogoutDelivery.id) == pk)
        )
    ).first()
    return (row[0], row[1]) if row else None
