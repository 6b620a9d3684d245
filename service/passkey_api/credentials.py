"""Passkey API credentials: what an app may list, rename and delete of its users' passkeys,
always scoped to its tenant."""

from __future__ import annotations

from typing import Any

from service.auth.context import AuthContext
from service.auth.errors import AuthError, NotFound
from service.auth.names import clean_name
from service.codec import b64url_encode
from service.db import tenants as tenant_rows
from service.db.models import Tenant, TenantCredential


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
        assert row.id is not None
        await tenant_rows.rename_credential(db, row.id, cleaned)
        await db.commit()
        row.name = cleaned
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
