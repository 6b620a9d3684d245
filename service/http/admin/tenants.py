"""Admin API: apps that use the passkey API (the same operations as ``sesame tenants``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse, Response

from service import passkey_api
from service.db.models import Tenant, shown
from service.http.admin.base import (
    NO_STORE,
    KeyLookup,
    Name,
    Origin,
    TenantId,
    admin_router,
    found,
    no_content,
)
from service.http.deps import Ctx
from service.http.openapi import HOST_PATTERN

router = admin_router()


class TenantIn(BaseModel):
    """An app that uses the passkey API. Each origin must be on the RP ID (its host is the
    RP ID or a subdomain of it): a rule across fields that this schema cannot state, answered
    with 400 ``invalid_tenant``."""

    model_config = ConfigDict(strict=True, extra="forbid")

    name: Name = Field(examples=["Example shop"])
    rp_id: str = Field(
        max_length=253, examples=["shop.example"], json_schema_extra={"pattern": HOST_PATTERN}
    )
    origins: list[Origin] = Field(min_length=1, max_length=20, examples=[["https://shop.example"]])


def _tenant_view(tenant: Tenant) -> dict[str, Any]:
    names = ("tenant_id", "name", "rp_id", "origins", "created_at")
    return shown(tenant, *names, lists=("origins",))


@router.get("/tenants")
async def list_tenants(ctx: Ctx) -> list[dict[str, Any]]:
    return [_tenant_view(t) for t in await passkey_api.list_tenants(ctx)]


@router.post("/tenants", status_code=201)
async def create_tenant(body: TenantIn, ctx: Ctx) -> Response:
    """Registers the app and returns its first API key, shown only in this answer."""
    tenant, key = await passkey_api.create_tenant(
        ctx, body.name, body.rp_id, body.origins, actor="admin-api"
    )
    return JSONResponse({**_tenant_view(tenant), "api_key": key}, status_code=201, headers=NO_STORE)


async def _tenant(ctx: Ctx, tenant_id: str) -> Tenant:
    return found(await passkey_api.find_tenant(ctx, tenant_id))


@router.post("/tenants/{tenant_id}/keys", status_code=201)
async def add_tenant_key(tenant_id: TenantId, ctx: Ctx) -> Response:
    """Another API key (rotate: add the new one, deploy it, revoke the old one)."""
    tenant = await _tenant(ctx, tenant_id)
    key = await passkey_api.new_api_key(ctx, tenant, "admin api", actor="admin-api")
    return JSONResponse({"api_key": key}, status_code=201, headers=NO_STORE)


@router.delete("/tenants/{tenant_id}/keys/{lookup}", status_code=204)
async def revoke_tenant_key(tenant_id: TenantId, lookup: KeyLookup, ctx: Ctx) -> Response:
    """Revoke a key by its lookup (the 16 characters after ``sk_``)."""
    tenant = await _tenant(ctx, tenant_id)
    return no_content(await passkey_api.revoke_api_key(ctx, tenant, lookup, actor="admin-api"))


@router.delete("/tenants/{tenant_id}", status_code=204)
async def delete_tenant(tenant_id: TenantId, ctx: Ctx) -> Response:
    """Deletes the tenant, its API keys and every passkey its users registered."""
    await passkey_api.delete_tenant(ctx, await _tenant(ctx, tenant_id), actor="admin-api")
    return Response(status_code=204)
