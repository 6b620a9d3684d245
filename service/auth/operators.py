"""What an operator does to accounts from the command line: find, list, disable, enable,
delete, sign out everywhere."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, update
from sqlmodel import col, delete, select

from service import audit
from service.auth.addresses import normalize_email
from service.auth.context import AuthContext
from service.db import sessions as session_rows
from service.db.models import Grant, PasskeyCredential, Session, User


@dataclass(frozen=True)
class UserSummary:
    user: User
    passkeys: int
    sessions: int

    def as_dict(self) -> dict[str, Any]:
        u = self.user
        return {
            "id": str(u.public_id),
            "username": u.username,
            "email": u.email,
            "email_verified": u.email_verified_at is not None,
            "name": u.name,
            "created_at": u.created_at.isoformat(),
            "disabled_at": u.disabled_at.isoformat() if u.disabled_at else None,
            "passkeys": self.passkeys,
            "sessions": self.sessions,
        }


def _match(identifier: str) -> Any:
    """A user by public id, username or email address."""
    try:
        return col(User.public_id) == uuid.UUID(identifier)
    except ValueError:
        pass
    if "@" in identifier:
        return col(User.email_key) == normalize_email(identifier)
    return col(User.username_key) == identifier.strip().lower()


async def _summaries(ctx: AuthContext, where: Any, limit: int) -> list[UserSummary]:
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
    if where is not None:
        query = query.where(where)
    async with ctx.db.session() as db:
        rows = (await db.exec(query)).all()
    return [UserSummary(user, int(p), int(s)) for user, p, s in rows]


async def list_users(ctx: AuthContext, limit: int = 100) -> list[UserSummary]:
    return await _summaries(ctx, None, limit)


async def find_user(ctx: AuthContext, identifier: str) -> UserSummary | None:
    found = await _summaries(ctx, _match(identifier), 1)
    return found[0] if found else None


async def set_disabled(ctx: AuthContext, user: User, disabled: bool) -> None:
    """Disabling ends every session and every app's grant at once; the person cannot sign in
    until enabled again."""
    assert user.id is not None
    now: datetime | None = ctx.clock.now() if disabled else None
    async with ctx.db.session() as db:
        await db.exec(update(User).where(col(User.id) == user.id).values(disabled_at=now))
        if disabled:
            await session_rows.delete_for_user(db, user.id)
            await db.exec(
                update(Grant)
                .where(col(Grant.user_id) == user.id, col(Grant.revoked_at).is_(None))
                .values(revoked_at=now)
            )
        kind = "user.disabled" if disabled else "user.enabled"
        await audit.record(db, ctx.clock, kind, user_id=user.id, actor="cli")
        await db.commit()


async def delete_user(ctx: AuthContext, user: User) -> None:
    """Passkeys, sessions, grants and consents go with the account (foreign keys cascade)."""
    async with ctx.db.session() as db:
        await db.exec(delete(User).where(col(User.id) == user.id))
        await db.commit()


async def revoke_sessions(ctx: AuthContext, user: User) -> None:
    assert user.id is not None
    async with ctx.db.session() as db:
        await session_rows.delete_for_user(db, user.id)
        await audit.record(db, ctx.clock, "sessions.revoked", user_id=user.id, actor="cli")
        await db.commit()
