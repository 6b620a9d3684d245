"""OAuth clients repository."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, cast

from sqlalchemy import literal, update
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.db.hot import HotConnection, Statement, columns
from service.db.kept import RowCache
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


_VERSION = Statement(
    "SELECT version FROM oauth_clients WHERE id = $1",
    columns(OAuthClient, "id"),
    scalars=columns(OAuthClient, "version"),
)


async def current_version(conn: HotConnection, pk: int) -> int | None:
    """The client row's version now, or None when the row is gone."""
    found = await conn.row(_VERSION, pk)
    return cast(int, found[0]) if found else None


class StaleClient(Exception):
    """The client row a request was authenticated against is not the current one (its
    ``version`` moved on, or it is gone), found by the statement that would have written what
    the request asked for: nothing was written. ``resume``, when a grant sets it, carries on
    from where it stopped with the current row (a code grant has already claimed its code);
    otherwise the grant runs again from the start. ``release`` gives back what the grant
    consumed, for when the current row refuses the request."""

    def __init__(self) -> None:
        super().__init__("the client's registration changed")
        self.resume: Callable[[OAuthClient], Awaitable[dict[str, Any]]] | None = None
        self.release: Callable[[], Awaitable[None]] | None = None


class ClientCache(RowCache[OAuthClient]):
    """Client rows by ``client_id`` (``service.db.kept``). Whatever a grant writes is
    conditional on the row's ``version``, which the database moves on at every UPDATE, whichever
    process or operator makes it: a row changed or deleted elsewhere is noticed by that same
    statement (``StaleClient``)."""

    def __init__(self, size: int = 1024) -> None:
        super().__init__("client_id", size)


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
