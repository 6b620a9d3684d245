"""Passkey API ceremonies: registration and login for an app's own users (WebAuthn Level 3
sections 7.1 and 7.2, with the same rules as the hosted pages, ``service.auth.verification``).

A challenge is bound to the tenant and the ceremony type; a credential made for one RP ID fails
verification for another (rpIdHash). A successful login yields a short-lived JWT signed with
Sesame's keys, verifiable against ``/jwks.json``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from service.auth import ceremony
from service.auth.context import AuthContext
from service.auth.errors import InvalidPasskeyResponse, PasskeyAlreadyRegistered, UnknownPasskey
from service.auth.names import default_passkey_name
from service.auth.options import creation_options, decoy_descriptors, descriptor, request_options
from service.auth.verification import (
    RelyingParty,
    check_owner,
    counter_regressed,
    credential_id_of,
    verify_assertion,
    verify_registration,
)
from service.codec import b64url_encode
from service.db import tenants as tenant_rows
from service.db.models import Tenant, TenantCredential
from service.keys.keyed import new_token

LOGIN_TOKEN_SECONDS = 300


def relying_party(ctx: AuthContext, tenant: Tenant) -> RelyingParty:
    return RelyingParty(
        tenant.rp_id, tenant.name, tenant.origins.split(), ctx.settings.ceremony_timeout_seconds
    )


def _bound(tenant: Tenant) -> str:
    """Challenges are bound to the tenant (in place of a browser)."""
    return f"tenant:{tenant.tenant_id}"


def _user_handle(ctx: AuthContext, tenant: Tenant, user_id: str) -> bytes:
    """WebAuthn user.id must not reveal the app's user id: a keyed hash of it, per tenant."""
    return ctx.keys.hash("tenant-user-handle", f"{tenant.tenant_id}\x00{user_id}")


@dataclass(frozen=True)
class AppUser:
    user_id: str
    username: str
    display_name: str = ""


async def begin_registration(
    ctx: AuthContext, tenant: Tenant, user: AppUser
) -> tuple[str, dict[str, Any]]:
    assert tenant.id is not None
    async with ctx.db.session() as db:
        existing = await tenant_rows.credentials_of(db, tenant.id, user.user_id)
    started = await ceremony.begin(
        ctx,
        "api-register",
        _bound(tenant),
        {"user_id": user.user_id, "username": user.username},
    )
    options = creation_options(
        relying_party(ctx, tenant),
        challenge=started.challenge,
        user_handle=_user_handle(ctx, tenant, user.user_id),
        username=user.username,
        display_name=user.display_name,
        exclude=[descriptor(c.credential_id, c.transports) for c in existing],
    )
    return started.id, options


async def finish_registration(
    ctx: AuthContext, tenant: Tenant, ceremony_id: str, credential: Any, user_agent: str
) -> TenantCredential:
    assert tenant.id is not None
    started = await ceremony.take(ctx, ceremony_id, "api-register", _bound(tenant))
    passkey = verify_registration(relying_party(ctx, tenant), credential, started.challenge)
    row = TenantCredential(
        tenant_pk=tenant.id,
        user_id=started.data["user_id"],
        user_handle=_user_handle(ctx, tenant, started.data["user_id"]),
        username=started.data["username"],
        credential_id=passkey.credential_id,
        public_key=passkey.public_key,
        sign_count=passkey.sign_count,
        transports=",".join(passkey.transports),
        aaguid=passkey.aaguid,
        backup_eligible=passkey.backup_eligible,
        backup_state=passkey.backup_state,
        name=default_passkey_name(passkey.aaguid, user_agent),
        created_at=ctx.clock.now(),
    )
    async with ctx.db.session() as db:
        await tenant_rows.add(db, row)
        try:
            await db.commit()
        except IntegrityError as exc:
            raise PasskeyAlreadyRegistered() from exc
    return row


async def begin_login(
    ctx: AuthContext, tenant: Tenant, user_id: str | None
) -> tuple[str, dict[str, Any]]:
    assert tenant.id is not None
    allow = []
    data: dict[str, Any] = {}
    if user_id is not None:
        data["user_id"] = user_id
        async with ctx.db.session() as db:
            rows = await tenant_rows.credentials_of(db, tenant.id, user_id)
        allow = [descriptor(c.credential_id, c.transports) for c in rows]
        if not allow:  # same-shaped options whether or not the user has passkeys
            seed = ctx.keys.hash("decoy-credential", f"{tenant.tenant_id}\x00{user_id}")
            allow = decoy_descriptors(seed)
    started = await ceremony.begin(ctx, "api-authenticate", _bound(tenant), data)
    return started.id, request_options(
        relying_party(ctx, tenant), challenge=started.challenge, allow=allow
    )


async def finish_login(
    ctx: AuthContext, tenant: Tenant, ceremony_id: str, credential: Any
) -> dict[str, Any]:
    """Every check of the hosted sign-in, scoped to the tenant; then a JWT for the app."""
    assert tenant.id is not None
    started = await ceremony.take(ctx, ceremony_id, "api-authenticate", _bound(tenant))
    async with ctx.db.session() as db:
        stored = await tenant_rows.credential(db, tenant.id, credential_id_of(credential))
        if stored is None:
            raise UnknownPasskey(detail="credential not registered with this tenant")
        assert stored.id is not None
        check_owner(
            credential,
            started.data,
            owner=stored.user_id,
            owner_handle=stored.user_handle,
        )
        assertion = verify_assertion(
            relying_party(ctx, tenant), credential, started.challenge, stored
        )
        if counter_regressed(stored.sign_count, assertion.new_sign_count):
            raise InvalidPasskeyResponse(detail="sign counter regression")
        now = ctx.clock.now()
        if not await tenant_rows.record_use(
            db, stored.id, stored.sign_count, assertion.new_sign_count, assertion.backup_state, now
        ):
            raise InvalidPasskeyResponse(detail="credential used concurrently")
        await db.commit()
    iat = int(now.timestamp())
    claims = {
        "iss": ctx.settings.issuer,
        "sub": stored.user_id,
        "aud": tenant.tenant_id,
        "iat": iat,
        "exp": iat + LOGIN_TOKEN_SECONDS,
        "amr": ["passkey"],
        "cred_id": b64url_encode(stored.credential_id),
        "jti": new_token(16),
    }
    token = await ctx.signer.sign(claims, alg="RS256")
    return {"token": token, "user_id": stored.user_id, "credential_id": claims["cred_id"]}
