"""The passkey API: apps that keep their own login register and verify passkeys through Sesame.

Each app is a tenant with its own RP ID and origins. Its users and credentials live apart from
Sesame's accounts and from other tenants: every query is scoped by tenant, a challenge is bound
to the tenant and ceremony type, and a credential made for one RP ID fails verification for
another (rpIdHash). The same WebAuthn rules as the hosted pages apply (``verification``). A
successful login yields a short-lived JWT signed with Sesame's keys, verifiable against
``/jwks.json``.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from service import audit
from service.auth import ceremony, ratelimit
from service.auth.context import AuthContext
from service.auth.errors import (
    AuthError,
    InvalidPasskeyResponse,
    NotFound,
    PasskeyAlreadyRegistered,
    UnknownPasskey,
)
from service.auth.names import clean_name, default_passkey_name
from service.auth.options import creation_options, decoy_descriptors, descriptor, request_options
from service.auth.verification import (
    RelyingParty,
    b64url_encode,
    check_owner,
    counter_regressed,
    credential_id_of,
    verify_assertion,
    verify_registration,
)
from service.db import tenants as tenant_rows
from service.db.models import Tenant, TenantApiKey, TenantCredential
from service.keys.keyed import new_token
from service.text import split_url

LOGIN_TOKEN_SECONDS = 300


class Unauthorized(AuthError):
    error = "unauthorized"
    status_code = 401
    message = "A valid API key is required (Authorization: Bearer sk_...)."


class TenantRejected(ValueError):
    """A tenant registration that breaks a rule; the message says which."""


def relying_party(ctx: AuthContext, tenant: Tenant) -> RelyingParty:
    return RelyingParty(
        tenant.rp_id, tenant.name, tenant.origins.split(), ctx.settings.ceremony_timeout_seconds
    )


# -- tenants and keys (CLI, admin) ------------------------------------------------------------


def _check_tenant(name: str, rp_id: str, origins: list[str]) -> None:
    if not name.strip() or len(name) > 100:
        raise TenantRejected("name: 1 to 100 characters")
    if not rp_id or len(rp_id) > 253:
        raise TenantRejected("RP ID: a host name of at most 253 characters")
    if not origins:
        raise TenantRejected("at least one origin")
    for origin in origins:
        parts = split_url(origin)
        if parts is None:
            raise TenantRejected(f"origin {origin!r} is not a valid URL")
        host = parts.hostname or ""
        local = parts.scheme == "http" and host in {"localhost", "127.0.0.1"}
        if parts.scheme != "https" and not local:
            raise TenantRejected(f"origin {origin!r}: https (or http://localhost)")
        if parts.path not in {"", "/"} or parts.query or parts.fragment:
            raise TenantRejected(f"origin {origin!r}: scheme, host and port only")
        if host != rp_id and not host.endswith("." + rp_id):
            raise TenantRejected(f"origin {origin!r} is not on the RP ID {rp_id!r}")


async def new_api_key(ctx: AuthContext, tenant: Tenant, name: str, *, actor: str = "admin") -> str:
    """A key, shown once; only its keyed hash is stored."""
    assert tenant.id is not None
    lookup = secrets.token_hex(8)
    key = f"sk_{lookup}_{new_token()}"
    async with ctx.db.session() as db:
        db.add(
            TenantApiKey(
                tenant_pk=tenant.id,
                lookup=lookup,
                key_hash=ctx.keys.hash("tenant-api-key", key),
                name=name[:100] or "default",
                created_at=ctx.clock.now(),
            )
        )
        await audit.record(
            db,
            ctx.clock,
            "tenant.key_added",
            user_id=None,
            actor=actor,
            detail=f"{tenant.tenant_id} sk_{lookup}_...",
        )
        await db.commit()
    return key


async def create_tenant(
    ctx: AuthContext, name: str, rp_id: str, origins: list[str], *, actor: str = "admin"
) -> tuple[Tenant, str]:
    origins = [o.rstrip("/") for o in origins]
    _check_tenant(name, rp_id, origins)
    tenant = Tenant(
        tenant_id=f"tnt_{secrets.token_hex(8)}",
        name=name.strip(),
        rp_id=rp_id,
        origins=" ".join(origins),
        created_at=ctx.clock.now(),
    )
    async with ctx.db.session() as db:
        db.add(tenant)
        await audit.record(
            db, ctx.clock, "tenant.created", user_id=None, actor=actor, detail=tenant.tenant_id
        )
        await db.commit()
    return tenant, await new_api_key(ctx, tenant, "first key", actor=actor)


async def delete_tenant(ctx: AuthContext, tenant: Tenant, *, actor: str = "admin") -> None:
    """The tenant, its keys and all its users' credentials go (foreign keys cascade)."""
    async with ctx.db.session() as db:
        await tenant_rows.delete_tenant(db, tenant.tenant_id)
        await audit.record(
            db, ctx.clock, "tenant.deleted", user_id=None, actor=actor, detail=tenant.tenant_id
        )
        await db.commit()


async def list_tenants(ctx: AuthContext) -> list[Tenant]:
    async with ctx.db.session() as db:
        return await tenant_rows.all_tenants(db)


async def find_tenant(ctx: AuthContext, tenant_id: str) -> Tenant | None:
    async with ctx.db.session() as db:
        return await tenant_rows.by_tenant_id(db, tenant_id)


async def revoke_api_key(
    ctx: AuthContext, tenant: Tenant, lookup: str, *, actor: str = "admin"
) -> bool:
    assert tenant.id is not None
    async with ctx.db.session() as db:
        done = await tenant_rows.revoke_key(db, tenant.id, lookup, ctx.clock.now())
        if done:
            await audit.record(
                db,
                ctx.clock,
                "tenant.key_revoked",
                user_id=None,
                actor=actor,
                detail=f"{tenant.tenant_id} sk_{lookup}_...",
            )
        await db.commit()
    return done


async def tenant_for_key(ctx: AuthContext, authorization: str | None) -> Tenant:
    """The tenant whose live API key is in the bearer header; the same 401 for a missing,
    malformed, unknown or revoked key."""
    header = authorization or ""
    key = header[7:].strip() if header[:7].lower() == "bearer " else ""
    # sk_<16 hex lookup>_<secret>; the secret may itself contain "_".
    lookup = key[3:19]
    if not key.startswith("sk_") or len(key) < 30 or len(key) > 100 or key[19:20] != "_":
        raise Unauthorized(detail="malformed API key")
    async with ctx.db.session() as db:
        found = await tenant_rows.key_with_tenant(db, lookup)
    if found is None:
        raise Unauthorized(detail="unknown API key")
    row, tenant = found
    if not hmac.compare_digest(row.key_hash, ctx.keys.hash("tenant-api-key", key)):
        raise Unauthorized(detail="wrong API key")
    if row.revoked_at is not None:
        raise Unauthorized(detail="revoked API key")
    await ratelimit.hit(ctx, "api-key", lookup, ctx.settings.api_rate_per_key, window=60)
    await ratelimit.hit(
        ctx, "api-tenant", tenant.tenant_id, ctx.settings.api_rate_per_tenant, window=60
    )
    return tenant


# -- ceremonies -------------------------------------------------------------------------------


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
        db.add(row)
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


# -- credentials ------------------------------------------------------------------------------


def credential_view(row: TenantCredential) -> dict[str, Any]:
    return {
        "id": b64url_encode(row.credential_id),
        "user_id": row.user_id,
        "name": row.name,
        "created_at": row.created_at.isoformat(),
        "last_used_at": row.last_used_at.isoformat() if row.last_used_at else None,
        "synced": row.backup_eligible,
    }


async def list_credentials(ctx: AuthContext, tenant: Tenant, user_id: str) -> list[dict[str, Any]]:
    assert tenant.id is not None
    async with ctx.db.session() as db:
        return [
            credential_view(r) for r in await tenant_rows.credentials_of(db, tenant.id, user_id)
        ]


async def rename_credential(
    ctx: AuthContext, tenant: Tenant, credential_id: bytes, name: str
) -> dict[str, Any]:
    assert tenant.id is not None
    cleaned = clean_name(name)
    if not cleaned:
        raise AuthError("A passkey name cannot be empty.")
    async with ctx.db.session() as db:
        row = await tenant_rows.credential(db, tenant.id, credential_id)
        if row is None:
            raise NotFound("No such credential.")
        row.name = cleaned
        db.add(row)
        await db.commit()
        return credential_view(row)


async def delete_credentials(
    ctx: AuthContext,
    tenant: Tenant,
    *,
    user_id: str | None = None,
    credential_id: bytes | None = None,
) -> int:
    assert tenant.id is not None
    async with ctx.db.session() as db:
        removed = await tenant_rows.delete_credentials(
            db, tenant.id, user_id=user_id, credential_id=credential_id
        )
        await db.commit()
    if credential_id is not None and removed == 0:
        raise NotFound("No such credential.")
    return removed
