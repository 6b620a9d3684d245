"""Passkey API repository: tenants, their API keys, their users' credentials. Every function
joins the caller's transaction; the caller commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.db.models import Tenant, TenantApiKey, TenantCredential


async def add(session: AsyncSession, row: Tenant | TenantApiKey | TenantCredential) -> None:
    session.add(row)


async def by_tenant_id(session: AsyncSession, tenant_id: str) -> Tenant | None:
    return (await session.exec(select(Tenant).where(Tenant.tenant_id == tenant_id))).first()


async def delete_tenant(session: AsyncSession, tenant_id: str) -> None:
    await session.exec(delete(Tenant).where(col(Tenant.tenant_id) == tenant_id))


async def all_tenants(session: AsyncSession) -> list[Tenant]:
    return list((await session.exec(select(Tenant).order_by(col(Tenant.id)))).all())


async def key_with_tenant(session: AsyncSession, lookup: str) -> tuple[TenantApiKey, Tenant] | None:
    row = (
        await session.exec(
            select(TenantApiKey, Tenant)
            .join(Tenant, col(Tenant.id) == col(TenantApiKey.tenant_pk))
            .where(TenantApiKey.lookup == lookup)
        )
    ).first()
    return (row[0], row[1]) if row else None


async def revoke_key(session: AsyncSession, tenant_pk: int, lookup: str, at: datetime) -> bool:
    result = await session.exec(
        update(TenantApiKey)
        .where(
            col(TenantApiKey.tenant_pk) == tenant_pk,
            col(TenantApiKey.lookup) == lookup,
            col(TenantApiKey.revoked_at).is_(None),
        )
        .values(revoked_at=at)
    )
    return bool(result.rowcount)


async def credentials_of(
    session: AsyncSession, tenant_pk: int, user_id: str
) -> list[TenantCredential]:
    result = await session.exec(
        select(TenantCredential)
        .where(TenantCredential.tenant_pk == tenant_pk, TenantCredential.user_id == user_id)
        .order_by(col(TenantCredential.id))
    )
    return list(result.all())


async def credential(
    session: AsyncSession, tenant_pk: int, credential_id: bytes
) -> TenantCredential | None:
    result = await session.exec(
        select(TenantCredential).where(
            TenantCredential.tenant_pk == tenant_pk,
            TenantCredential.credential_id == credential_id,
        )
    )
    return result.first()


async def rename_credential(session: AsyncSession, pk: int, name: str) -> None:
    await session.exec(
        update(TenantCredential).where(col(TenantCredential.id) == pk).values(name=name)
    )


async def record_use(
    session: AsyncSession, pk: int, previous: int, new: int, backup_state: bool, at: datetime
) -> bool:
    """Compare-and-set on the counter, as for Sesame's own passkeys."""
    result = await session.exec(
        update(TenantCredential)
        .where(col(TenantCredential.id) == pk, col(TenantCredential.sign_count) == previous)
        .values(sign_count=new, backup_state=backup_state, last_used_at=at)
    )
    return result.rowcount == 1


async def delete_credentials(
    session: AsyncSession,
    tenant_pk: int,
    *,
    user_id: str | None = None,
    credential_id: bytes | None = None,
) -> int:
    query = delete(TenantCredential).where(col(TenantCredential.tenant_pk) == tenant_pk)
    if user_id is not None:
        query = query.where(col(TenantCredential.user_id) == user_id)
    if credential_id is not None:
        query = query.where(col(TenantCredential.credential_id) == credential_id)
    result = await session.exec(query)
    return int(result.rowcount or 0)


async def keys_of(session: AsyncSession, tenant_pk: int) -> list[TenantApiKey]:
    result = await session.exec(
        select(TenantApiKey)
        .where(TenantApiKey.tenant_pk == tenant_pk)
        .order_by(col(TenantApiKey.created_at))
    )
    return list(result.all())
