"""The signed-in person's own account: passkeys listed, added, renamed, deleted."""

from __future__ import annotations

import uuid
from typing import Any

from service.auth import ceremony
from service.auth.context import AuthContext
from service.auth.errors import (
    AuthError,
    CeremonyExpired,
    LastPasskey,
    NotFound,
    PasskeyAlreadyRegistered,
)
from service.auth.names import clean_name, default_passkey_name
from service.auth.options import creation_options, descriptor
from service.auth.verification import verify_registration
from service.db import credentials, users
from service.db.models import PasskeyCredential, User


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
        ctx.settings,
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
    passkey = verify_registration(ctx.settings, credential, started.challenge)
    assert user.id is not None
    row = passkey.as_row(
        user_id=user.id,
        name=default_passkey_name(passkey.aaguid, user_agent),
        created_at=ctx.clock.now(),
    )
    async with ctx.db.session() as db:
        try:
            return await credentials.add(db, row)
        except credentials.DuplicateCredential as exc:
            raise PasskeyAlreadyRegistered() from exc


async def rename_passkey(ctx: AuthContext, user: User, credential_pk: int, name: str) -> None:
    cleaned = clean_name(name)
    if not cleaned:
        raise AuthError("A passkey name cannot be empty.")
    assert user.id is not None
    async with ctx.db.session() as db:
        if not await credentials.rename(db, user.id, credential_pk, cleaned):
            raise NotFound("That passkey was not found on your account.")


async def delete_passkey(ctx: AuthContext, user: User, credential_pk: int) -> None:
    assert user.id is not None
    async with ctx.db.session() as db:
        outcome = await credentials.delete_unless_last(db, user.id, credential_pk)
    if outcome == "missing":
        raise NotFound("That passkey was not found on your account.")
    if outcome == "last":
        raise LastPasskey()
