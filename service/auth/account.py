"""The signed-in person's own account: passkeys listed, added, renamed, deleted."""

from __future__ import annotations

import uuid
from typing import Any

from service import audit
from service.auth import ceremony
from service.auth.context import AuthContext
from service.auth.errors import (
    AuthError,
    CeremonyExpired,
    LastPasskey,
    NotFound,
    PasskeyAlreadyRegistered,
    StepUpRequired,
)
from service.auth.names import clean_name, default_passkey_name
from service.auth.notices import queue_notice
from service.auth.options import creation_options, descriptor
from service.auth.sessions import CurrentSession
from service.auth.verification import RelyingParty, verify_registration
from service.db import credentials, users
from service.db.models import PasskeyCredential, User
from service.i18n import N_


async def list_passkeys(ctx: AuthContext, user: User) -> list[PasskeyCredential]:
    assert user.id is not None
    async with ctx.db.session() as db:
        return await credentials.for_user(db, user.id)


async def returning_user(ctx: AuthContext, signed_public_id: str | None) -> User | None:
    """The user a long-lived "last user" cookie names, if the cookie is genuine."""
    value = ctx.keys.unsign("last-user", signed_public_id or "")
    if not value:
        return None
    try:
        public_id = uuid.UUID(value)
    except ValueError:
        return None
    async with ctx.db.session() as db:
        user = await users.by_public_id(db, public_id)
    return user if user and user.disabled_at is None else None


async def begin_add_passkey(
    ctx: AuthContext, browser_id: str, user: User
) -> tuple[str, dict[str, Any]]:
    existing = await list_passkeys(ctx, user)
    started = await ceremony.begin(ctx, "register", browser_id, {"user_id": user.id})
    options = creation_options(
        RelyingParty.of(ctx.settings),
        challenge=started.challenge,
        user_handle=user.public_id.bytes,
        username=user.username,
        display_name=user.name,
        exclude=[descriptor(row.credential_id, row.transports) for row in existing],
    )
    return started.id, options


async def finish_add_passkey(
    ctx: AuthContext,
    browser_id: str,
    user: User,
    *,
    ceremony_id: str,
    credential: Any,
    user_agent: str,
) -> PasskeyCredential:
    started = await ceremony.take(ctx, ceremony_id, "register", browser_id)
    if started.data.get("user_id") != user.id:
        raise CeremonyExpired(detail="add-passkey ceremony of another account")
    passkey = verify_registration(RelyingParty.of(ctx.settings), credential, started.challenge)
    assert user.id is not None
    row = passkey.as_row(
        user_id=user.id,
        name=default_passkey_name(passkey.aaguid, user_agent),
        created_at=ctx.clock.now(),
    )
    async with ctx.db.session() as db:
        try:
            added = await credentials.add(db, row)
        except credentials.DuplicateCredential as exc:
            raise PasskeyAlreadyRegistered() from exc
        await db.commit()
    await _notify(
        ctx,
        user,
        "passkey_added",
        N_("A passkey was added"),
        N_("“%(passkey)s” can now sign in to your account."),
        passkey=added.name,
    )
    return added


async def rename_passkey(ctx: AuthContext, user: User, credential_pk: int, name: str) -> None:
    cleaned = clean_name(name)
    if not cleaned:
        raise AuthError(N_("A passkey name cannot be empty."))
    assert user.id is not None
    async with ctx.db.session() as db:
        if not await credentials.rename(db, user.id, credential_pk, cleaned):
            raise NotFound("That passkey was not found on your account.")
        await db.commit()


async def delete_passkey(ctx: AuthContext, session: CurrentSession, credential_pk: int) -> None:
    """Sensitive: needs a recent passkey confirmation in this session, never an email link
    alone (recovery adds a new passkey first, then uses it to remove the lost one)."""
    user = session.user
    assert user.id is not None
    if not session.passkey_recent(ctx.clock.now(), ctx.settings.step_up_seconds):
        raise StepUpRequired(detail="delete passkey without a recent passkey confirmation")
    async with ctx.db.session() as db:
        rows = {row.id: row.name for row in await credentials.for_user(db, user.id)}
        outcome = await credentials.delete_unless_last(db, user.id, credential_pk)
        await db.commit()
    if outcome == "missing":
        raise NotFound("That passkey was not found on your account.")
    if outcome == "last":
        raise LastPasskey()
    await _notify(
        ctx,
        user,
        "passkey_removed",
        N_("A passkey was removed"),
        N_("“%(passkey)s” can no longer sign in to your account."),
        passkey=rows.get(credential_pk, "Passkey"),
    )


async def _notify(
    ctx: AuthContext, user: User, kind: str, headline: str, detail: str, *, passkey: str
) -> None:
    """Tell the owner by email and record it in the audit trail."""
    async with ctx.db.session() as db:
        await queue_notice(ctx, db, user, kind, headline, detail, passkey=passkey)
        await audit.record(
            db, ctx.clock, kind.replace("_", "."), user_id=user.id, detail=passkey[:200]
        )
        await db.commit()
    ctx.mailer.wake()
