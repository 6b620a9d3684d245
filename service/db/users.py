"""Users repository. Functions join the caller's transaction; the caller commits."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.db.models import PasskeyCredential, Session, User


class DuplicateUser(Exception):
    """Username or email already taken (raised from the unique indexes, so races lose too)."""


async def by_pk(session: AsyncSession, pk: int) -> User | None:
    return await session.get(User, pk)


async def by_public_id(session: AsyncSession, public_id: uuid.UUID) -> User | None:
    result = await session.exec(select(User).where(User.public_id == public_id))
    return result.first()


async def by_username_key(session: AsyncSession, username_key: str) -> User | None:
    result = await session.exec(select(User).where(User.username_key == username_key))
    return result.first()


async def by_email_key(session: AsyncSession, email_key: str) -> User | None:
    result = await session.exec(select(User).where(User.email_key == email_key))
    return result.first()


async def taken(session: AsyncSession, username_key: str, email_key: str) -> tuple[bool, bool]:
    """Which of username and email are already in use."""
    result = await session.exec(
        select(User.username_key, User.email_key).where(
            or_(col(User.username_key) == username_key, col(User.email_key) == email_key)
        )
    )
    rows = result.all()
    return (
        any(row[0] == username_key for row in rows),
        any(row[1] == email_key for row in rows),
    )


async def create_with_credential(
    session: AsyncSession, user: User, credential: PasskeyCredential
) -> User:
    """Insert a user and its first passkey; the caller commits both (with the first session)."""
    session.add(user)
    try:
        await session.flush()
        assert user.id is not None
        credential.user_id = user.id
        session.add(credential)
        await session.flush()
    except IntegrityError as exc:
        raise DuplicateUser(str(exc.orig)) from exc
    return user


def change(session: AsyncSession, user: User, **values: Any) -> None:
    """Set columns on a loaded user; written with the caller's commit."""
    for name, value in values.items():
        setattr(user, name, value)
    session.add(user)


def contains_pattern(text: str) -> str:
    """A LIKE pattern (escape character ``\\``) matching values that contain ``text``."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def summaries(
    session: AsyncSession,
    *,
    limit: int,
    public_id: uuid.UUID | None = None,
    username_key: str | None = None,
    email_key: str | None = None,
    search: str | None = None,
    admins: bool = False,
) -> list[tuple[User, int, int]]:
    """Users in creation order with their passkey and session counts (one query), optionally
    the one matching a public id, username key or email key, those whose username, email
    address or name contains ``search`` (any case), or the administrators."""
    passkeys = (
        select(func.count())
        .select_from(PasskeyCredential)
        .where(col(PasskeyCredential.user_id) == col(User.id))
        .scalar_subquery()
    )
    sessions = (
        select(func.count())
        .select_from(Session)
        .where(col(Session.user_id) == col(User.id))
        .scalar_subquery()
    )
    query = select(User, passkeys, sessions).order_by(col(User.id)).limit(limit)
    if public_id is not None:
        query = query.where(col(User.public_id) == public_id)
    if username_key is not None:
        query = query.where(col(User.username_key) == username_key)
    if email_key is not None:
        query = query.where(col(User.email_key) == email_key)
    if search:
        pattern = contains_pattern(search.lower())
        query = query.where(
            or_(
                col(User.username_key).like(pattern, escape="\\"),
                col(User.email_key).like(pattern, escape="\\"),
                func.lower(col(User.name)).like(pattern, escape="\\"),
            )
        )
    if admins:
        query = query.where(col(User.admin_since).is_not(None))
    return [(user, int(p), int(n)) for user, p, n in (await session.exec(query)).all()]


async def set_disabled_at(session: AsyncSession, pk: int, at: datetime | None) -> None:
    await session.exec(update(User).where(col(User.id) == pk).values(disabled_at=at))


async def set_admin_since(session: AsyncSession, pk: int, at: datetime | None) -> None:
    await session.exec(update(User).where(col(User.id) == pk).values(admin_since=at))


async def count(session: AsyncSession, *, admins: bool = False) -> int:
    query = select(func.count()).select_from(User)
    if admins:
        query = query.where(col(User.admin_since).is_not(None))
    return int((await session.exec(query)).one())


async def delete_user(session: AsyncSession, pk: int) -> None:
    """Passkeys, sessions, grants and consents go with the row (foreign keys cascade)."""
    await session.exec(delete(User).where(col(User.id) == pk))
