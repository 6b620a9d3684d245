"""The admin API: manage relying apps over HTTP (the same operations as ``sesame clients``).

Every route needs ``Authorization: Bearer <SESAME_ADMIN_TOKEN>``; without a configured token
the API answers 404, as if it did not exist. Documented in the OpenAPI schema at
``/openapi.json``.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response

from service import audit
from service.auth import operators, passkey_api
from service.db.models import Tenant
from service.http.deps import Ctx
from service.http.oidc import Oidc
from service.keys.signing import ALGORITHMS, DEFAULT_ALG
from service.oidc import clients
from service.oidc.clients import ClientRejected, ClientSpec


async def require_admin(request: Request, oidc: Oidc) -> None:
    expected = oidc.settings.admin_token
    if not expected:
        raise HTTPException(404)
    header = request.headers.get("authorization", "")
    given = header[7:].strip() if header[:7].lower() == "bearer " else ""
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(401, "admin token required")


router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(require_admin)])

NO_STORE = {"Cache-Control": "no-store"}


class ClientIn(BaseModel):
    """A client registration."""

    name: str = Field(max_length=100, examples=["Example app"])
    type: Literal["confidential", "public"] = "confidential"
    redirect_uris: list[str] = Field(
        default_factory=list, max_length=20, examples=[["https://app.example/callback"]]
    )
    post_logout_redirect_uris: list[str] = Field(default_factory=list, max_length=20)
    scopes: list[str] = Field(default_factory=lambda: list(clients.SCOPES))
    grant_types: list[str] = Field(default_factory=lambda: ["authorization_code", "refresh_token"])
    id_token_signed_response_alg: str = Field(default=DEFAULT_ALG, examples=list(ALGORITHMS))
    first_party: bool = False
    client_id: str | None = Field(default=None, max_length=64)


class ClientOut(BaseModel):
    client_id: str
    name: str
    type: str
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str]
    scopes: list[str]
    grant_types: list[str]
    id_token_signed_response_alg: str
    token_endpoint_auth_method: str
    first_party: bool
    created_at: str
    client_secret: str | None = Field(
        default=None, description="Only in the answer that creates it; stored hashed."
    )


@router.get("/clients", response_model=list[ClientOut])
async def list_clients(oidc: Oidc) -> list[dict[str, Any]]:
    return [clients.client_view(row) for row in await clients.list_clients(oidc)]


@router.post("/clients", response_model=ClientOut, status_code=201)
async def create_client(body: ClientIn, oidc: Oidc) -> Response:
    spec = ClientSpec(
        name=body.name,
        type=body.type,
        redirect_uris=body.redirect_uris,
        post_logout_redirect_uris=body.post_logout_redirect_uris,
        scopes=body.scopes,
        grant_types=body.grant_types,
        id_token_alg=body.id_token_signed_response_alg,
        first_party=body.first_party,
        client_id=body.client_id,
    )
    try:
        row, secret = await clients.create_client(oidc, spec, actor="admin-api")
    except ClientRejected as exc:
        return JSONResponse(
            {"error": "invalid_client_metadata", "message": str(exc)}, status_code=400
        )
    return JSONResponse(
        {**clients.client_view(row), "client_secret": secret}, status_code=201, headers=NO_STORE
    )


@router.get("/clients/{client_id}", response_model=ClientOut)
async def show_client(client_id: str, oidc: Oidc) -> dict[str, Any]:
    row = await clients.get_client(oidc, client_id)
    if row is None:
        raise HTTPException(404)
    return clients.client_view(row)


@router.delete("/clients/{client_id}", status_code=204)
async def delete_client(client_id: str, oidc: Oidc) -> Response:
    if not await clients.delete_client(oidc, client_id, actor="admin-api"):
        raise HTTPException(404)
    return Response(status_code=204)


@router.post("/clients/{client_id}/rotate-secret")
async def rotate_secret(client_id: str, oidc: Oidc) -> Response:
    secret = await clients.rotate_secret(oidc, client_id, actor="admin-api")
    if secret is None:
        raise HTTPException(404)
    return JSONResponse({"client_id": client_id, "client_secret": secret}, headers=NO_STORE)


class EventOut(BaseModel):
    at: str
    kind: str
    description: str
    user: str | None = Field(default=None, description="The account's public id")
    actor: str
    ip: str
    user_agent: str
    detail: str


@router.get("/events", response_model=list[EventOut])
async def list_events(
    ctx: Ctx,
    user: str | None = None,
    kind: str | None = None,
    since: datetime | None = None,
    limit: int = Query(default=50, ge=1, le=1000),
) -> list[dict[str, Any]]:
    """The audit trail, newest first; filter by user (username, email or id), kind, time."""
    user_id = None
    if user is not None:
        found = await operators.find_user(ctx, user)
        if found is None:
            raise HTTPException(404, "no such user")
        user_id = found.user.id
    return await audit.search(ctx.db, user_id=user_id, kind=kind, since=since, limit=limit)


class TenantIn(BaseModel):
    """An app that uses the passkey API."""

    name: str = Field(max_length=100, examples=["Example shop"])
    rp_id: str = Field(max_length=253, examples=["shop.example"])
    origins: list[str] = Field(min_length=1, max_length=20, examples=[["https://shop.example"]])


def _tenant_view(tenant: Tenant) -> dict[str, Any]:
    return {
        "tenant_id": tenant.tenant_id,
        "name": tenant.name,
        "rp_id": tenant.rp_id,
        "origins": tenant.origins.split(),
        "created_at": tenant.created_at.isoformat(),
    }


@router.get("/tenants")
async def list_tenants(ctx: Ctx) -> list[dict[str, Any]]:
    return [_tenant_view(t) for t in await passkey_api.list_tenants(ctx)]


@router.post("/tenants", status_code=201)
async def create_tenant(body: TenantIn, ctx: Ctx) -> Response:
    """Registers the app and returns its first API key, shown only in this answer."""
    try:
        tenant, key = await passkey_api.create_tenant(
            ctx, body.name, body.rp_id, body.origins, actor="admin-api"
        )
    except passkey_api.TenantRejected as exc:
        return JSONResponse({"error": "invalid_tenant", "message": str(exc)}, status_code=400)
    return JSONResponse({**_tenant_view(tenant), "api_key": key}, status_code=201, headers=NO_STORE)


async def _tenant(ctx: Ctx, tenant_id: str) -> Tenant:
    tenant = await passkey_api.find_tenant(ctx, tenant_id)
    if tenant is None:
        raise HTTPException(404)
    return tenant


@router.post("/tenants/{tenant_id}/keys", status_code=201)
async def add_tenant_key(tenant_id: str, ctx: Ctx) -> Response:
    """Another API key (rotate: add the new one, deploy it, revoke the old one)."""
    tenant = await _tenant(ctx, tenant_id)
    key = await passkey_api.new_api_key(ctx, tenant, "admin api", actor="admin-api")
    return JSONResponse({"api_key": key}, status_code=201, headers=NO_STORE)


@router.delete("/tenants/{tenant_id}/keys/{lookup}", status_code=204)
async def revoke_tenant_key(tenant_id: str, lookup: str, ctx: Ctx) -> Response:
    """Revoke a key by its lookup (the 16 characters after ``sk_``)."""
    tenant = await _tenant(ctx, tenant_id)
    if not await passkey_api.revoke_api_key(ctx, tenant, lookup, actor="admin-api"):
        raise HTTPException(404)
    return Response(status_code=204)


@router.delete("/tenants/{tenant_id}", status_code=204)
async def delete_tenant(tenant_id: str, ctx: Ctx) -> Response:
    """Deletes the tenant, its API keys and every passkey its users registered."""
    await passkey_api.delete_tenant(ctx, await _tenant(ctx, tenant_id), actor="admin-api")
    return Response(status_code=204)
