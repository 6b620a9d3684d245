"""Passkey credentials repository."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.db.hot import HotConnection, Statement, columns
from service.db.models import PasskeyCredential, User

_WITH_OWNER = Statement(
    "SELECT {returns} FROM passkey_credentials JOIN users ON users.id = passkey_credentials.user_id"
    " WHERE passkey_credentials.credential_id = $1",
    columns(PasskeyCredential, "credential_id"),
    (PasskeyCredential, User),
)
_RECORD_USE = Statement(
    "UPDATE passkey_credentials SET sign_count = $1, backup_state = $2, last_used_at = $3"
    " WHERE id = $4 AND sign_count = $5",
    columns(PasskeyCredential, "sign_count", "backup_state", "last_used_at", "id", "sign_count"),
)


class DuplicateCredential(Exception):
    """The credential ID is already registered (to this or any other account)."""


async def for_user(session: AsyncSession, user_id: int) -> list[PasskeyCredential]:
    result = await session.exec(
        select(PasskeyCredential)
        .where(PasskeyCredential.user_id == user_id)
        .order_by(col(PasskeyCredential.created_at), col(PasskeyCredential.id))
    )
    return list(result.all())


async def for_username_key(
    session: AsyncSession, username_key: str
) -> tuple[int | None, list[PasskeyCredential]]:
    """The user id and passkeys for a username in one query, whether or not it exists (the
    same work either way, so timing does not tell)."""
    result = await session.exec(
        select(User.id, PasskeyCredential)
        .select_from(User)
        .join(PasskeyCredential, col(PasskeyCredential.user_id) == col(User.id))
        .where(User.username_key == username_key)
        .order_by(col(PasskeyCredential.id))
    )
    rows = result.all()
    return (rows[0][0] if rows else None), [row[1] for row in rows]


async def with_owner(
    session: AsyncSession, credential_id: bytes
) -> tuple[PasskeyCredential, User] | None:
    """The credential and its owner in one query (the passkey-finish hot path)."""
    result = await session.exec(
        select(PasskeyCredential, User)
        .join(User, col(User.id) == col(PasskeyCredential.user_id))
        .where(PasskeyCredential.credential_id == credential_id)
    )
    row = result.first()
    return (row[0], row[1]) if row else None


async def find_with_owner(
    conn: HotConnection, credential_id: bytes
) -> tuple[PasskeyCredential, User] | None:
    """``with_owner`` for the passkey sign-in's hot path (service.db.hot)."""
    found = await conn.row(_WITH_OWNER, credential_id)
    return (found[0], found[1]) if found else None


async def record_use_hot(
    conn: HotConnection,
    credential_pk: int,
    *,
    previous_count: int,
    new_count: int,
    backup_state: bool,
    at: datetime,
) -> bool:
    """``record_use`` on the driver's connection: the same compare-and-set."""
    updated = await conn.execute(
        _RECORD_USE, new_count, backup_state, at, credential_pk, previous_count
    )
    return updated == 1


async def add(session: AsyncSession, credential: PasskeyCredential) -> PasskeyCredential:
    """Insert a passkey; flushed at once so that a duplicate credential id is known here, and
    written with the caller's commit."""
    session.add(credential)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise DuplicateCredential(str(exc.orig)) from exc
    return credential


async def record_use(
    session: AsyncSession,
    credential_pk: int,
    *,
    previous_count: int,
    new_count: int,
    backup_state: bool,
    at: datetime,
) -> bool:
    """Store the new counter only if nobody else used the credential meanwhile.

    The ``sign_count = previous`` guard makes two concurrent assertions that carry counters
    unable to both succeed (passkeys that always report 0 have no counter to race on; their
    challenges are single use all the same). Returns whether the row was updated. Joins the
    caller's transaction: sign-in commits it together with the new session.
    """
    result = await session.exec(
        update(PasskeyCredential)
        .where(col(PasskeyCredential.id) == credential_pk)
        .where(col(PasskeyCredential.sign_count) == previous_count)
        .values(sign_count=new_count, backup_state=backup_state, last_used_at=at)
    )
    return bool(result.rowcount)


async def flag_counter_regression(session: AsyncSession, credential_pk: int, at: datetime) -> None:
    await session.exec(
        update(PasskeyCredential)
        .where(col(PasskeyCredential.id) == credential_pk)
        .values(counter_regressed_at=at)
    )


async def rename(session: AsyncSession, user_id: int, credential_pk: int, name: str) -> bool:
    result = await session.exec(
        update(PasskeyCredential)
        .where(col(PasskeyCredential.id) == credential_pk)
        .where(col(PasskeyCredential.user_id) == user_id)
        .values(name=name)
    )
    return bool(result.rowcount)


async def delete_unless_last(session: AsyncSession, user_id: int, credential_pk: int) -> str:
    """Delete one of the user's passkeys, refusing the last one.

    Returns "deleted", "missing" or "last". The user's row is locked first (``FOR UPDATE``; SQLite
    has a single writer already), so concurrent deletes of an account's passkeys run one after
    the other and each counts what the previous one left: they can never remove them all.
    The caller commits (which releases the lock) or closes the session.
    """
    await session.exec(select(User.id).where(User.id == user_id).with_for_update())
    result = await session.exec(
        select(PasskeyCredential.id).where(PasskeyCredential.user_id == user_id)
    )
    owned = set(result.all())
    if credential_pk not in owned:
        return "missing"
    if len(owned) == 1:
        return "last"
    await session.exec(delete(PasskeyCredential).where(col(PasskeyCredential.id) == credential_pk))
    return "deleted"


async def delete_one(session: AsyncSession, user_id: int, credential_pk: int) -> str | None:
    """Delete one of the user's passkeys, the last one too (an administrator's action: the
    person can still sign in by email); its name, or None when there was no such passkey."""
    result = await session.exec(
        select(PasskeyCredential).where(
            PasskeyCredential.id == credential_pk, PasskeyCredential.user_id == user_id
        )
    )
    found = result.first()
    if found is None:
        return None
    await session.exec(delete(PasskeyCredential).where(col(PasskeyCredential.id) == credential_pk))
    return found.name
