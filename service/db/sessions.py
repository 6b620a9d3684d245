"""Browser sessions repository. Only the keyed hash of a session id is stored. Functions join
the caller's transaction; the caller commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.db.hot import HotConnection
from service.db.hot import insert as hot_insert
from service.db.models import Session, User

_STARTED = (
    "token_hash", "user_id", "created_at", "last_seen_at", "auth_time", "amr", "expires_at",
    "user_agent", "sid", "passkey_at",
)  # fmt: skip
_INSERT = hot_insert(Session, _STARTED)


async def add(session: AsyncSession, row: Session) -> None:
    session.add(row)


async def insert(conn: HotConnection, row: Session) -> None:
    """``add`` on the driver's connection (service.db.hot)."""
    await conn.execute(_INSERT, *(getattr(row, name) for name in _STARTED))


async def with_user(session: AsyncSession, token_hash: bytes) -> tuple[Session, User] | None:
    result = await session.exec(
        select(Session, User)
        .join(User, col(User.id) == col(Session.user_id))
        .where(Session.token_hash == token_hash)
    )
    row = result.first()
    return (row[0], row[1]) if row else None


async def touch(session: AsyncSession, session_pk: int, at: datetime) -> None:
    await session.exec(update(Session).where(col(Session.id) == session_pk).values(last_seen_at=at))


async def take_by_hash(session: AsyncSession, token_hash: bytes) -> tuple[str, int] | None:
    """Delete the session and return its ``(sid, user_id)``."""
    result = await session.exec(
        delete(Session)
        .where(col(Session.token_hash) == token_hash)
        .returning(col(Session.sid), col(Session.user_id))
    )
    row = result.first()
    return (row[0], row[1]) if row else None


async def by_sid(session: AsyncSession, sid: str) -> Session | None:
    result = await session.exec(select(Session).where(Session.sid == sid))
    return result.first()


async def for_user(session: AsyncSession, user_id: int) -> list[Session]:
    result = await session.exec(
        select(Session).where(Session.user_id == user_id).order_by(col(Session.created_at))
    )
    return list(result.all())


async def delete_for_user(session: AsyncSession, user_id: int) -> None:
    await session.exec(delete(Session).where(col(Session.user_id) == user_id))


async def mark_passkey(session: AsyncSession, session_pk: int, at: datetime, amr: str) -> None:
    await session.exec(
        update(Session).where(col(Session.id) == session_pk).values(passkey_at=at, amr=amr)
    )


async def delete_by_hash(session: AsyncSession, token_hash: bytes) -> None:
    await session.exec(delete(Session).where(col(Session.token_hash) == token_hash))
