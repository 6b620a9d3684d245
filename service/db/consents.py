"""Consents repository: which user let which client see which scopes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.db.models import Consent, Grant, OAuthClient


async def scope_for(session: AsyncSession, user_id: int, client_id: str) -> str | None:
    result = await session.exec(
        select(Consent.scope)
        .join(OAuthClient, col(OAuthClient.id) == col(Consent.client_pk))
        .where(Consent.user_id == user_id, OAuthClient.client_id == client_id)
    )
    return result.first()


async def upsert(
    session: AsyncSession, user_id: int, client_id: str, scope: str, at: datetime
) -> None:
    client = (
        await session.exec(select(OAuthClient).where(OAuthClient.client_id == client_id))
    ).first()
    if client is None or client.id is None:
        return
    existing = (
        await session.exec(
            select(Consent).where(Consent.user_id == user_id, Consent.client_pk == client.id)
        )
    ).first()
    if existing is None:
        session.add(Consent(user_id=user_id, client_pk=client.id, scope=scope, created_at=at))
    else:
        existing.scope = scope
        existing.created_at = at
        session.add(existing)


async def for_user(session: AsyncSession, user_id: int) -> list[tuple[Consent, OAuthClient]]:
    result = await session.exec(
        select(Consent, OAuthClient)
        .join(OAuthClient, col(OAuthClient.id) == col(Consent.client_pk))
        .where(Consent.user_id == user_id)
        .order_by(col(Consent.created_at))
    )
    return [(c, o) for c, o in result.all()]


async def revoke(session: AsyncSession, user_id: int, client_id: str, at: datetime) -> bool:
    """Forget the consent and end every grant the client holds for this user."""
    client = (
        await session.exec(select(OAuthClient).where(OAuthClient.client_id == client_id))
    ).first()
    if client is None:
        return False
    result = await session.exec(
        delete(Consent).where(col(Consent.user_id) == user_id, col(Consent.client_pk) == client.id)
    )
    await session.exec(
        update(Grant)
        .where(
            col(Grant.user_id) == user_id,
            col(Grant.client_pk) == client.id,
            col(Grant.revoked_at).is_(None),
        )
        .values(revoked_at=at)
    )
    return bool(result.rowcount)
