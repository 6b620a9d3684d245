"""OAuth clients repository."""

from __future__ import annotations

from typing import Any

from sqlalchemy import literal, update
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.db.hot import HotConnection, Statement, columns
from service.db.models import OAuthClient


async def by_client_id(session: AsyncSession, client_id: str) -> OAuthClient | None:
    result = await session.exec(select(OAuthClient).where(OAuthClient.client_id == client_id))
    return result.first()


_BY_CLIENT_ID = Statement(
    "SELECT {returns} FROM oauth_clients WHERE client_id = $1",
    columns(OAuthClient, "client_id"),
    (OAuthClient,),
)


async def find(conn: HotConnection, client_id: str) -> OAuthClient | None:
    """``by_client_id`` for the token endpoint's hot path (service.db.hot)."""
    found = await conn.row(_BY_CLIENT_ID, client_id)
    return found[0] if found else None


async def by_pk(session: AsyncSession, pk: int) -> OAuthClient | None:
    return await session.get(OAuthClient, pk)


async def all_clients(session: AsyncSession) -> list[OAuthClient]:
    result = await session.exec(select(OAuthClient).order_by(col(OAuthClient.id)))
    return list(result.all())


async def add(session: AsyncSession, row: OAuthClient) -> None:
    """Joins the caller's transaction; the caller commits."""
    session.add(row)


async def set_secret_hash(session: AsyncSession, pk: int, secret_hash: bytes) -> None:
    await session.exec(
        update(OAuthClient).where(col(OAuthClient.id) == pk).values(secret_hash=secret_hash)
    )


async def update_fields(session: AsyncSession, pk: int, **values: Any) -> None:
    if values:
        await session.exec(update(OAuthClient).where(col(OAuthClient.id) == pk).values(**values))


async def delete_by_client_id(session: AsyncSession, client_id: str) -> bool:
    result = await session.exec(delete(OAuthClient).where(col(OAuthClient.client_id) == client_id))
    return bool(result.rowcount)


async def origin_registered(session: AsyncSession, origin: str) -> bool:
    """Whether any client lists ``origin`` (already checked to be a bare origin: no space, no
    LIKE wildcard) among its allowed origins."""
    padded = literal(" ") + col(OAuthClient.allowed_origins) + literal(" ")
    query = select(OAuthClient.id).where(padded.like(f"% {origin} %")).limit(1)
    return (await session.exec(query)).first() is not None
