"""Passkey sign-in (WebAuthn L3 7.2): discoverable (no username) or username-first.

Unknown usernames get options shaped like a real user's (a stable fake credential id derived
from the server key), and every "not this account" case ends in the same ``UnknownPasskey``,
so neither step tells whether an account exists.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from service import audit
from service.auth import ceremony
from service.auth.context import AuthContext
from service.auth.errors import (
    AccountDisabled,
    InvalidPasskeyResponse,
    UnknownPasskey,
)
from service.auth.options import decoy_descriptors, descriptor, request_options
from service.auth.outcomes import counted
from service.auth.sessions import CurrentSession, confirm_with_passkey, start_session
from service.auth.verification import (
    RelyingParty,
    check_owner,
    counter_regressed,
    credential_id_of,
    verify_assertion,
)
from service.db import credentials
from service.db.models import User

log = logging.getLogger(__name__)


async def begin_signin(
    ctx: AuthContext, browser_id: str, *, username: str | None
) -> tuple[str, dict[str, Any]]:
    data: dict[str, Any] = {}
    allow = []
    if username:
        key = username.strip().lower()
        async with ctx.db.session() as db:
            data["user_id"], rows = await credentials.for_username_key(db, key)
        allow = [descriptor(row.credential_id, row.transports) for row in rows]
        if not allow:
            allow = decoy_descriptors(ctx.keys.hash("decoy-credential", key))
    started = await ceremony.begin(ctx, "authenticate", browser_id, data)
    return started.id, request_options(
        RelyingParty.of(ctx.settings), challenge=started.challenge, allow=allow
    )


async def _verified_use(
    ctx: AuthContext, db: AsyncSession, started: ceremony.Ceremony, credential: Any
) -> User:
    """Every WebAuthn check of an assertion, then the passkey's counter and last use recorded
    in the caller's transaction. Returns the passkey's owner."""
    credential_id = credential_id_of(credential)
    found = await credentials.with_owner(db, credential_id)
    if found is None:
        raise UnknownPasskey(detail="credential not registered")
    stored, owner = found
    assert stored.id is not None
    # Username-first (and step-up): the passkey must belong to the account that was named.
    check_owner(credential, started.data, owner=owner.id, owner_handle=owner.public_id.bytes)
    assertion = verify_assertion(
        RelyingParty.of(ctx.settings), credential, started.challenge, stored
    )
    now = ctx.clock.now()
    if counter_regressed(stored.sign_count, assertion.new_sign_count):
        log.warning(
            "sign counter did not increase for credential %s (stored %d, got %d): "
            "possible cloned authenticator",
            stored.id,
            stored.sign_count,
            assertion.new_sign_count,
        )
        await credentials.flag_counter_regression(db, stored.id, now)
        await db.commit()
        raise InvalidPasskeyResponse(detail="sign counter regression")
    if owner.disabled_at is not None:
        raise AccountDisabled()
    # Counter and last use are written only now, after every other check passed.
    updated = await credentials.record_use(
        db,
        stored.id,
        previous_count=stored.sign_count,
        new_count=assertion.new_sign_count,
        backup_state=assertion.backup_state,
        at=now,
    )
    if not updated:
        raise InvalidPasskeyResponse(detail="credential used concurrently")
    return owner


async def finish_signin(
    ctx: AuthContext,
    browser_id: str,
    *,
    ceremony_id: str,
    credential: Any,
    user_agent: str,
    replacing: str | None,
) -> tuple[User, str]:
    """Verify the assertion, then record the passkey's use and start a session in one commit.
    Returns the user and the new session cookie value."""

    async def attempt() -> tuple[User, str]:
        started = await ceremony.take(ctx, ceremony_id, "authenticate", browser_id)
        async with ctx.db.session() as db:
            owner = await _verified_use(ctx, db, started, credential)
            token = await start_session(
                ctx, db, owner, amr="passkey", user_agent=user_agent, replacing=replacing
            )
            await audit.record(db, ctx.clock, "signin.passkey", user_id=owner.id)
            await db.commit()
        return owner, token

    return await counted(ctx, "passkey", "signin.passkey.failed", attempt())


async def begin_step_up(
    ctx: AuthContext, browser_id: str, user: User
) -> tuple[str, dict[str, Any]]:
    """Confirm a signed-in session with one of the account's passkeys (before a sensitive
    change, or to turn an email session into a passkey one)."""
    assert user.id is not None
    async with ctx.db.session() as db:
        rows = await credentials.for_user(db, user.id)
    allow = [descriptor(row.credential_id, row.transports) for row in rows]
    started = await ceremony.begin(ctx, "step-up", browser_id, {"user_id": user.id})
    return started.id, request_options(
        RelyingParty.of(ctx.settings), challenge=started.challenge, allow=allow
    )


async def finish_step_up(
    ctx: AuthContext,
    browser_id: str,
    session: CurrentSession,
    *,
    ceremony_id: str,
    credential: Any,
) -> None:
    started = await ceremony.take(ctx, ceremony_id, "step-up", browser_id)
    if started.data.get("user_id") != session.user.id:
        raise UnknownPasskey(detail="step-up ceremony of another account")
    async with ctx.db.session() as db:
        await _verified_use(ctx, db, started, credential)
        await audit.record(db, ctx.clock, "step_up", user_id=session.user.id)
        await db.commit()
    await confirm_with_passkey(ctx, session)
