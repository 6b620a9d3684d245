"""Reading the database directly, to assert what a refused request did not change."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import select

from service.db.models import Grant, OAuthClient, PasskeyCredential, Session, User


async def count_users(app: Any, username: str | None = None) -> int:
    async with app.state.ctx.db.session() as db:
        query = select(func.count()).select_from(User)
        if username:
            query = query.where(User.username_key == username.lower())
        return int((await db.exec(query)).one())


async def credentials_of(app: Any, username: str) -> list[PasskeyCredential]:
    async with app.state.ctx.db.session() as db:
        rows = await db.exec(
            select(PasskeyCredential)
            .join(User)
            .where(User.username_key == username.lower())
            .order_by(PasskeyCredential.id)
        )
        return list(rows.all())


async def sessions_of(app: Any, username: str) -> list[Session]:
    async with app.state.ctx.db.session() as db:
        rows = await db.exec(
            select(Session).join(User).where(User.username_key == username.lower())
        )
        return list(rows.all())


async def grants_of_client(app: Any, client_id: str) -> list[Grant]:
    async with app.state.ctx.db.session() as db:
        rows = await db.exec(
            select(Grant)
            .join(OAuthClient, OAuthClient.id == Grant.client_pk)
            .where(OAuthClient.client_id == client_id)
        )
        return list(rows.all())


def counted_reads(monkeypatch: Any, owner: Any, name: str) -> list[str]:
    """The keys ``owner.name`` (a hot-path read taking a connection and a key) is called with,
    in order; the real read still runs."""
    seen: list[str] = []
    real = getattr(owner, name)

    async def read(conn: Any, key: str) -> Any:
        seen.append(key)
        return await real(conn, key)

    monkeypatch.setattr(owner, name, read)
    return seen


def counted_statements(monkeypatch: Any) -> list[str]:
    """Every statement the hot paths run (``service.db.hot.HotConnection``), from now on."""
    from service.db import hot

    made: list[str] = []
    for name in ("row", "execute"):
        real = getattr(hot.HotConnection, name)

        async def counted(self: Any, statement: Any, *args: Any, _real: Any = real) -> Any:
            made.append(statement.sql["postgresql"])
            return await _real(self, statement, *args)

        monkeypatch.setattr(hot.HotConnection, name, counted)
    return made
