"""APIs (resource servers) repository. Functions join the caller's transaction."""

from __future__ import annotations

from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.db.hot import HotConnection, Statement, columns
from service.db.kept import RowCache
from service.db.models import Api

_BY_AUDIENCE = Statement(
    "SELECT {returns} FROM apis WHERE audience = $1", columns(Api, "audience"), (Api,)
)


async def add(session: AsyncSession, row: Api) -> None:
    session.add(row)


async def by_audience(session: AsyncSession, audience: str) -> Api | None:
    return (await session.exec(select(Api).where(Api.audience == audience))).first()


async def find(conn: HotConnection, audience: str) -> Api | None:
    """``by_audience`` for the token endpoint (service.db.hot)."""
    found = await conn.row(_BY_AUDIENCE, audience)
    return found[0] if found else None


async def by_api_id(session: AsyncSession, api_id: str) -> Api | None:
    return (await session.exec(select(Api).where(Api.api_id == api_id))).first()


async def all_apis(session: AsyncSession) -> list[Api]:
    return list((await session.exec(select(Api).order_by(col(Api.id)))).all())


async def delete_by_api_id(session: AsyncSession, api_id: str) -> bool:
    result = await session.exec(delete(Api).where(col(Api.api_id) == api_id))
    return bool(result.rowcount)


class ApiCache(RowCache[Api]):
    """API rows by ``audience`` (``service.db.kept``), for the client credentials grant. What it
    issues on the strength of a kept row depends on the row's audience and scopes, and the
    grant's insert is conditional on both being unchanged (``grants.insert_for_client``)."""

    def __init__(self, size: int = 1024) -> None:
        super().__init__("audience", size)
