"""Users repository."""

from __future__ import annotations

import uuid

from sqlalchemy import or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.db.models import PasskeyCredential, User


class DuplicateUser(Exception):
    """Username or email already taken (raised from the unique indexes, so races lose too)."""


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
        await session.rollback()
        raise DuplicateUser(str(exc.orig)) from exc
    return user
