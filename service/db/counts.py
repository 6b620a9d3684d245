"""Row counts for the console's dashboard."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession


async def rows(session: AsyncSession, model: type[SQLModel]) -> int:
    return int((await session.exec(select(func.count()).select_from(model))).one())
