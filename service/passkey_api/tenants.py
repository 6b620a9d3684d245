"""Passkey API tenants and their API keys (CLI, admin API, and the bearer check of every
passkey API call).

A tenant is one app with its own RP ID and origins (WebAuthn Level 3 5.1.3: an origin must be
the RP ID or one of its subdomains). An API key is shown once and stored as a keyed hash; a
missing, malformed, unknown or revoked key gets the same 401, and each key and each tenant is
rate-limited.
"""

from __future__ import annotations

import hmac
import secrets

from sqlmodel.ext.asyncio.session import AsyncSession

from service import audit
from service.auth import ratelimit
from service.auth.context import AuthContext
from service.auth.errors import AuthError
from service.codec import bearer_credential
from service.db import tenants as tenant_rows
from service.db.models import Tenant, TenantApiKey
from service.keys.keyed import new_token
from service.problems import Problem
from service.text import split_url


class Unauthorized(AuthError):
    error = "unauthorized"
    status_code = 401
    message = "A valid API key is required (Authorization: Bearer sk_...)."


class TenantRejected(Problem):
    """A tenant registration that breaks a rule; the message says which."""

    error = "invalid_tenant"


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


async def _record_key(
    ctx: AuthContext, db: AsyncSession, kind: str, tenant: Tenant, lookup: str, actor: str
) -> None:
    """An audit event naming the key by its lookup only (never the secret part)."""
    detail = f"{tenant.tenant_id} sk_{lookup}_..."
    await audit.record(db, ctx.clock, kind, user_id=None, actor=actor, detail=detail)


async def new_api_key(ctx: AuthContext, tenant: Tenant, name: str, *, actor: str = "admin") -> str:
    """A key, shown once; only its keyed hash is stored."""
    assert tenant.id is not None
    lookup = secrets.token_hex(8)
    key = f"sk_{lookup}_{new_token()}"
    async with ctx.db.session() as db:
        await tenant_rows.add(
            db,
            TenantApiKey(
                tenant_pk=tenant.id,
                lookup=lookup,
                key_hash=ctx.keys.hash("tenant-api-key", key),
                name=name[:100] or "default",
                created_at=ctx.clock.now(),
            ),
        )
        await _record_key(ctx, db, "tenant.key_added", tenant, lookup, actor)
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
        await tenant_rows.add(db, tenant)
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
        detail = f"{tenant.tenant_id} sk_{lookup}_..."
        await audit.record_removal(
            db, ctx.clock, done, "tenant.key_revoked", actor=actor, detail=detail
        )
        await db.commit()
    return done


async def tenant_for_key(ctx: AuthContext, authorization: str | None) -> Tenant:
    """The tenant whose live API key is in the bearer header; the same 401 for a missing,
    malformed, unknown or revoked key."""
    key = bearer_credential(authorization) or ""
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


async def list_keys(ctx: AuthContext, tenant: Tenant) -> list[TenantApiKey]:
    """The tenant's keys by their lookups (never their secrets), revoked ones too."""
    assert tenant.id is not None
    async with ctx.db.session() as db:
        return await tenant_rows.keys_of(db, tenant.id)
