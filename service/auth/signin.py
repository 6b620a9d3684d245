"""Passkey sign-in (WebAuthn L3 7.2): discoverable (no username) or username-first.

Unknown usernames get options shaped like a real user's (a stable fake credential id derived
from the server key), and every "not this account" case ends in the same ``UnknownPasskey``,
so neither step tells whether an account exists.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from service import audit
from service.auth import ceremony, ratelimit
from service.auth.context import AuthContext
from service.auth.errors import (
    AccountDisabled,
    InvalidPasskeyResponse,
    UnknownPasskey,
)
from service.auth.options import decoy_descriptors, descriptor, request_options
from service.auth.outcomes import counted
from service.auth.sessions import (
    CurrentSession,
    confirm_with_passkey,
    fresh_session,
    start_session,
)
from service.auth.verification import (
    Assertion,
    RelyingParty,
    check_owner,
    counter_regressed,
    credential_id_of,
    verify_assertion,
)
from service.db import credentials, hot, signins
from service.db.models import PasskeyCredential, User

log = logging.getLogger(__name__)


async def begin_signin(
    ctx: AuthContext,
    browser_id: str,
    *,
    username: str | None,
    budget: ratelimit.Budget | None = None,
) -> tuple[str, dict[str, Any]]:
    data: dict[str, Any] = {}
    allow = []
    if username:
        key = username.strip().lower()
        await ratelimit.hit(
            ctx, "ceremony-account", key, ctx.settings.ceremony_rate_per_account, window=60
        )
        async with ctx.db.session() as db:
            data["user_id"], rows = await credentials.for_username_key(db, key)
        allow = [descriptor(row.credential_id, row.transports) for row in rows]
        if not allow:
            allow = decoy_descriptors(ctx.keys.hash("decoy-credential", key))
    started = await ceremony.begin(ctx, "authenticate", browser_id, data, budget)
    return started.id, request_options(
        RelyingParty.of(ctx.settings), challenge=started.challenge, allow=allow
    )


async def _checked_assertion(
    ctx: AuthContext, started: ceremony.Ceremony, credential: Any
) -> tuple[PasskeyCredential, User, Assertion]:
    """Every WebAuthn check of an assertion against the stored passkey (one read on the
    driver's connection). Writes nothing, except the flag on a passkey whose validly signed
    assertion carried a counter that did not increase. Returns the passkey and its owner."""
    async with hot.connect(ctx.db) as conn:
        found = await credentials.find_with_owner(conn, credential_id_of(credential))
    if found is None:
        raise UnknownPasskey(detail="credential not registered")
    stored, owner = found
    assert stored.id is not None
    # Username-first (and step-up): the passkey must belong to the account that was named.
    check_owner(credential, started.data, owner=owner.id, owner_handle=owner.public_id.bytes)
    assertion = verify_assertion(
        RelyingParty.of(ctx.settings), credential, started.challenge, stored
    )
    if counter_regressed(stored.sign_count, assertion.new_sign_count):
        log.warning(
            "sign counter did not increase for credential %s (stored %d, got %d): "
            "possible cloned authenticator",
            stored.id,
            stored.sign_count,
            assertion.new_sign_count,
        )
        async with ctx.db.session() as db:
            await credentials.flag_counter_regression(db, stored.id, ctx.clock.now())
            await db.commit()
        raise InvalidPasskeyResponse(detail="sign counter regression")
    if owner.disabled_at is not None:
        raise AccountDisabled()
    return stored, owner, assertion


def _use(stored: PasskeyCredential, assertion: Assertion, now: datetime) -> dict[str, Any]:
    """The passkey's new counter and last use, written only after every check passed."""
    assert stored.id is not None
    return {
        "credential_pk": stored.id,
        "previous_count": stored.sign_count,
        "new_count": assertion.new_sign_count,
        "backup_state": assertion.backup_state,
        "at": now,
    }


CONCURRENT_USE = "credential used concurrently"


async def finish_signin(
    ctx: AuthContext,
    browser_id: str,
    *,
    ceremony_id: str,
    credential: Any,
    user_agent: str,
    replacing: str | None,
) -> tuple[User, str]:
    """Verify the assertion, then record the passkey's use, start a session and audit it in
    one transaction. Returns the user and the new session cookie value.

    A browser without a session (the usual case) takes the hot path: one read, then one
    statement that writes all three on PostgreSQL (``service.db.signins``). One that holds a
    session (its owner's apps may have to hear of a sign-out) goes through ``start_session``."""

    async def attempt() -> tuple[User, str]:
        started = await ceremony.take(ctx, ceremony_id, "authenticate", browser_id)
        stored, owner, assertion = await _checked_assertion(ctx, started, credential)
        now = ctx.clock.now()
        use = _use(stored, assertion, now)
        if replacing is None:
            token, row = fresh_session(ctx, owner, amr="passkey", user_agent=user_agent, now=now)
            event = audit.event(
                "signin.passkey", now, user_id=owner.id, detail=audit.passkey_used(stored.id)
            )
            async with hot.connect(ctx.db) as conn:
                if not await signins.record_signin(conn, **use, session=row, event=event):
                    raise InvalidPasskeyResponse(detail=CONCURRENT_USE)
            return owner, token
        async with ctx.db.session() as db:
            if not await credentials.record_use(db, **use):
                raise InvalidPasskeyResponse(detail=CONCURRENT_USE)
            token = await start_session(
                ctx, db, owner, amr="passkey", user_agent=user_agent, replacing=replacing
            )
            await audit.record(
                db,
                ctx.clock,
                "signin.passkey",
                user_id=owner.id,
                detail=audit.passkey_used(stored.id),
            )
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
    stored, _, assertion = await _checked_assertion(ctx, started, credential)
    async with ctx.db.session() as db:
        if not await credentials.record_use(db, **_use(stored, assertion, ctx.clock.now())):
            raise InvalidPasskeyResponse(detail=CONCURRENT_USE)
        await audit.record(db, ctx.clock, "step_up", user_id=session.user.id)
        await db.commit()
    await confirm_with_passkey(ctx, session)
