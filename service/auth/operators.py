"""What an operator does to accounts, from the command line or the console: find, list,
search, disable, enable, delete, sign out everywhere, make an administrator.

Administrators are people with passkeys (``users.admin_since``). From the console an
administrator cannot remove their own role, nor remove or delete the last administrator
(``by`` names who acts); ``sesame users`` on the server's own shell is not held to that."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from service import audit
from service.auth.addresses import normalize_email
from service.auth.context import AuthContext
from service.auth.errors import AuthError
from service.auth.notices import queue_notice
from service.auth.sessions import end_user_sessions
from service.db import credentials
from service.db import grants as grant_rows
from service.db import sessions as session_rows
from service.db import users as user_rows
from service.db.models import Session, User
from service.i18n import N_


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
            "admin": u.admin_since is not None,
            "passkeys": self.passkeys,
            "sessions": self.sessions,
        }


def _match(identifier: str) -> dict[str, Any]:
    """A user by public id, username or email address."""
    try:
        return {"public_id": uuid.UUID(identifier)}
    except ValueError:
        pass
    if "@" in identifier:
        return {"email_key": normalize_email(identifier)}
    return {"username_key": identifier.strip().lower()}


async def _summaries(ctx: AuthContext, limit: int, match: dict[str, Any]) -> list[UserSummary]:
    async with ctx.db.session() as db:
        rows = await user_rows.summaries(db, limit=limit, **match)
    return [UserSummary(user, passkeys, sessions) for user, passkeys, sessions in rows]


async def list_users(
    ctx: AuthContext, limit: int = 100, *, search: str = "", admins: bool = False
) -> list[UserSummary]:
    """Everyone (in creation order), those whose username, email address or name contains
    ``search``, or only the administrators."""
    return await _summaries(ctx, limit, {"search": search[:100] or None, "admins": admins})


async def find_user(ctx: AuthContext, identifier: str) -> UserSummary | None:
    found = await _summaries(ctx, 1, _match(identifier))
    return found[0] if found else None


async def set_disabled(
    ctx: AuthContext, user: User, disabled: bool, *, actor: str = "cli", by: User | None = None
) -> None:
    """Disabling ends every session and every app's grant at once; the person cannot sign in
    until enabled again."""
    assert user.id is not None
    if disabled and by is not None:
        await _keep_an_admin(ctx, user, by, N_("You cannot disable your own account here."))
    now: datetime | None = ctx.clock.now() if disabled else None
    async with ctx.db.session() as db:
        await user_rows.set_disabled_at(db, user.id, now)
        if now is not None:
            await end_user_sessions(ctx, db, user.id)
            await grant_rows.revoke_for_user(db, user.id, now)
        kind = "user.disabled" if disabled else "user.enabled"
        await audit.record(db, ctx.clock, kind, user_id=user.id, actor=actor)
        await db.commit()


def pseudonym(ctx: AuthContext, user: User) -> str:
    """What the audit trail keeps of a deleted account: a keyed hash of its public id, the
    same for every event about it and meaningless without the server key."""
    return ctx.keys.hash_hex("deleted-account", str(user.public_id))[:24]


async def erase(ctx: AuthContext, db: AsyncSession, user: User, *, actor: str) -> None:
    """In the caller's transaction: apps holding a session of the account are owed a logout
    token (back-channel logout), then the account goes, and its passkeys, sessions, grants and
    consents with it (foreign keys cascade); its earlier audit events lose their link to it
    and one pseudonymous ``user.deleted`` event is added."""
    assert user.id is not None
    await end_user_sessions(ctx, db, user.id)
    await user_rows.delete_user(db, user.id)
    detail = f"account {pseudonym(ctx, user)}"
    await audit.record(db, ctx.clock, "user.deleted", user_id=None, actor=actor, detail=detail)


async def delete_user(
    ctx: AuthContext, user: User, *, actor: str = "cli", by: User | None = None
) -> None:
    if by is not None:
        await _keep_an_admin(ctx, user, by, N_("Delete your own account from your account page."))
    async with ctx.db.session() as db:
        await erase(ctx, db, user, actor=actor)
        await db.commit()


async def revoke_sessions(ctx: AuthContext, user: User, *, actor: str = "cli") -> None:
    assert user.id is not None
    async with ctx.db.session() as db:
        await end_user_sessions(ctx, db, user.id)
        await audit.record(db, ctx.clock, "sessions.revoked", user_id=user.id, actor=actor)
        await db.commit()


class AdminRule(AuthError):
    """What would leave Sesame without an administrator, or lock out the one acting."""

    error = "admin_rule"
    status_code = 409


async def _keep_an_admin(ctx: AuthContext, user: User, by: User, own: str) -> None:
    """``by`` may not act on their own account this way, nor take the last administrator."""
    if user.id == by.id:
        raise AdminRule(own)
    if user.admin_since is not None:
        async with ctx.db.session() as db:
            if await user_rows.count(db, admins=True) <= 1:
                raise AdminRule(N_("Sesame needs at least one administrator."))


async def set_admin(
    ctx: AuthContext, user: User, admin: bool, *, actor: str = "cli", by: User | None = None
) -> bool:
    """Make the person an administrator, or no longer one; False when nothing changed."""
    assert user.id is not None
    if (user.admin_since is not None) == admin:
        return False
    if not admin and by is not None:
        await _keep_an_admin(ctx, user, by, N_("You cannot remove your own administrator role."))
    async with ctx.db.session() as db:
        await user_rows.set_admin_since(db, user.id, ctx.clock.now() if admin else None)
        kind = "user.admin_granted" if admin else "user.admin_revoked"
        await audit.record(db, ctx.clock, kind, user_id=user.id, actor=actor)
        await db.commit()
    return True


async def remove_passkey(ctx: AuthContext, user: User, credential_pk: int, *, actor: str) -> bool:
    """A passkey the person lost, removed by an administrator (even their last: they can sign
    in by email and add a new one). The owner is told by email; False when there was none."""
    assert user.id is not None
    async with ctx.db.session() as db:
        name = await credentials.delete_one(db, user.id, credential_pk)
        if name is None:
            return False
        await queue_notice(
            ctx,
            db,
            user,
            "passkey_removed",
            N_("A passkey was removed"),
            N_("“%(passkey)s” can no longer sign in to your account."),
            passkey=name,
        )
        await audit.record(
            db, ctx.clock, "passkey.removed", user_id=user.id, actor=actor, detail=name[:200]
        )
        await db.commit()
    ctx.mailer.wake()
    return True


async def sessions_of(ctx: AuthContext, user: User) -> list[Session]:
    """The person's browser sessions (when started, last seen, from which browser, how)."""
    assert user.id is not None
    async with ctx.db.session() as db:
        return await session_rows.for_user(db, user.id)
