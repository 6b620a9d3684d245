"""The admin API: manage relying apps over HTTP (the same operations as ``sesame clients``).

Every route needs ``Authorization: Bearer <SESAME_ADMIN_TOKEN>``; without a configured token
the API answers 404, as if it did not exist. Documented in the OpenAPI schema at
``/openapi.json``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response

from service import audit, passkey_api
from service.auth import operators
from service.db.models import Tenant
from service.http.deps import Ctx, require_bearer
from service.http.oidc import Oidc
from service.http.openapi import (
    HOST_PATTERN,
    NAME_PATTERN,
    NATIVE_REDIRECT_URI_PATTERN,
    ORIGIN_PATTERN,
    REDIRECT_URI_PATTERN,
    error_responses,
)
from service.http.retry import RetryReadsRoute
from service.keys.signing import ALGORITHMS
from service.oidc import clients
from service.oidc.clients import SCOPES, ClientSpec, PublicClientSecret
from service.oidc.grants import ALIASES, DEFAULT_GRANT_TYPES, DEVICE_CODE, GRANT_TYPES


async def require_admin(request: Request, oidc: Oidc) -> None:
    expected = oidc.settings.admin_token
    if not expected:
        raise HTTPException(404)
    require_bearer(request, expected, "admin token")


router = APIRouter(
    route_class=RetryReadsRoute,
    prefix="/admin",
    tags=["admin"],
    dependencies=[Depends(require_admin)],
    responses=error_responses(400, 401, 404, 409, 413, 503),
)

NO_STORE = {"Cache-Control": "no-store"}


def _contains(value: str) -> dict[str, Any]:
    return {
        "required": ["grant_types"],
        "properties": {"grant_types": {"contains": {"const": value}}},
    }


RedirectUri = Annotated[
    str, Field(max_length=2000, json_schema_extra={"pattern": NATIVE_REDIRECT_URI_PATTERN})
]
Origin = Annotated[str, Field(max_length=300, json_schema_extra={"pattern": ORIGIN_PATTERN})]
# Only a public client may use a private-use scheme (RFC 8252 7.1).
WEB_REDIRECTS: dict[str, Any] = {"type": "array", "items": {"pattern": REDIRECT_URI_PATTERN}}


ClientId = Annotated[str, Path(min_length=1, max_length=64)]
TenantId = Annotated[str, Path(min_length=1, max_length=40)]
KeyLookup = Annotated[str, Path(min_length=1, max_length=16)]
if TYPE_CHECKING:
    Scope = str
    GrantType = str
else:
    # The enums of the schema are the registries themselves (scopes, service.oidc.grants).
    Scope = Literal[SCOPES]
    GrantType = Literal[(*GRANT_TYPES, *ALIASES)]


def _all_scopes() -> list[Scope]:
    return list(SCOPES)


def _code_grants() -> list[GrantType]:
    return list(DEFAULT_GRANT_TYPES)


class ClientIn(BaseModel):
    """A client registration. Its rules, also in this schema: redirect URIs are https (or
    http on a loopback host) without userinfo, fragment or wildcard, and a public client may
    use a private-use scheme in reverse domain order (RFC 8252 7.1); scopes include openid;
    the authorization_code grant (the default) needs a redirect URI; refresh_token comes with
    authorization_code or the device code grant (``device_code`` is short for its URN);
    client_credentials is for confidential clients."""

    model_config = ConfigDict(
        strict=True,
        # Metadata Sesame does not know is refused, never dropped: an operator is never told
        # "created" for a setting that was not kept.
        extra="forbid",
        json_schema_extra={
            "allOf": [
                {
                    "if": {
                        "not": {
                            "allOf": [
                                {"required": ["grant_types"]},
                                {"not": _contains("authorization_code")},
                            ]
                        }
                    },
                    "then": {
                        "required": ["redirect_uris"],
                        "properties": {"redirect_uris": {"minItems": 1}},
                    },
                },
                {
                    "if": _contains("refresh_token"),
                    "then": {
                        "anyOf": [
                            _contains(name)
                            for name in ("authorization_code", DEVICE_CODE, "device_code")
                        ]
                    },
                },
                {
                    "if": _contains("client_credentials"),
                    "then": {"properties": {"type": {"const": "confidential"}}},
                },
                {
                    "if": {
                        "not": {"required": ["type"], "properties": {"type": {"const": "public"}}}
                    },
                    "then": {
                        "properties": {
                            "redirect_uris": WEB_REDIRECTS,
                            "post_logout_redirect_uris": WEB_REDIRECTS,
                        }
                    },
                },
            ]
        },
    )

    name: str = Field(
        min_length=1,
        max_length=100,
        examples=["Example app"],
        json_schema_extra={"pattern": NAME_PATTERN},
    )
    type: Literal["confidential", "public"] = "confidential"
    redirect_uris: list[RedirectUri] = Field(
        default_factory=list, max_length=20, examples=[["https://app.example/callback"]]
    )
    post_logout_redirect_uris: list[RedirectUri] = Field(default_factory=list, max_length=20)
    scopes: list[Scope] = Field(
        default_factory=_all_scopes,
        min_length=1,
        json_schema_extra={"contains": {"const": "openid"}},
    )
    grant_types: list[GrantType] = Field(default_factory=_code_grants, min_length=1)
    id_token_signed_response_alg: Literal["RS256", "ES256", "EdDSA"] = Field(
        default="RS256", examples=list(ALGORITHMS)
    )
    first_party: bool = False
    client_id: str | None = Field(
        default=None, max_length=64, json_schema_extra={"pattern": "^[A-Za-z0-9._-]{1,64}$"}
    )
    backchannel_logout_uri: str | None = Field(
        default=None,
        max_length=2000,
        description="OpenID Connect Back-Channel Logout: where Sesame posts a logout token when "
        "a person who used this app signs out.",
        json_schema_extra={"pattern": REDIRECT_URI_PATTERN},
    )
    allowed_origins: list[Origin] | None = Field(
        default=None,
        max_length=20,
        description="Browser origins whose scripts may call the token, userinfo and revocation "
        "endpoints (CORS). Absent: for a public client, the origins of its web redirect URIs.",
    )


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
    allowed_origins: list[str]
    backchannel_logout_uri: str | None
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
        scopes=list(body.scopes),
        grant_types=list(body.grant_types),
        id_token_alg=body.id_token_signed_response_alg,
        first_party=body.first_party,
        client_id=body.client_id,
        allowed_origins=body.allowed_origins,
        backchannel_logout_uri=body.backchannel_logout_uri or "",
    )
    row, secret = await clients.create_client(oidc, spec, actor="admin-api")
    return JSONResponse(
        {**clients.client_view(row), "client_secret": secret}, status_code=201, headers=NO_STORE
    )


@router.get("/clients/{client_id}", response_model=ClientOut)
async def show_client(client_id: ClientId, oidc: Oidc) -> dict[str, Any]:
    row = await clients.get_client(oidc, client_id)
    if row is None:
        raise HTTPException(404)
    return clients.client_view(row)


@router.delete("/clients/{client_id}", status_code=204)
async def delete_client(client_id: ClientId, oidc: Oidc) -> Response:
    if not await clients.delete_client(oidc, client_id, actor="admin-api"):
        raise HTTPException(404)
    return Response(status_code=204)


@router.post("/clients/{client_id}/rotate-secret")
async def rotate_secret(client_id: ClientId, oidc: Oidc) -> Response:
    """A new secret for a confidential client; a public client has none (409)."""
    secret = await clients.rotate_secret(oidc, client_id, actor="admin-api")
    if secret is None:
        if await clients.get_client(oidc, client_id) is not None:
            raise PublicClientSecret()
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
    since: Annotated[
        str | None,
        Query(max_length=40, json_schema_extra={"format": "date-time"}),
    ] = None,
    limit: int = Query(default=50, ge=1, le=1000),
) -> list[dict[str, Any]]:
    """The audit trail, newest first; filter by user (username, email or id), kind, time."""
    try:
        after = datetime.fromisoformat(since) if since is not None else None
    except ValueError as exc:
        raise HTTPException(400, "since: an ISO 8601 date-time") from exc
    if after is not None and after.tzinfo is None:
        after = after.replace(tzinfo=UTC)
    user_id = None
    if user is not None:
        found = await operators.find_user(ctx, user)
        if found is None:
            raise HTTPException(404, "no such user")
        user_id = found.user.id
    return await audit.search(ctx.db, user_id=user_id, kind=kind, since=after, limit=limit)


class TenantIn(BaseModel):
    """An app that uses the passkey API. Each origin must be on the RP ID (its host is the
    RP ID or a subdomain of it): a rule across fields that this schema cannot state, answered
    with 400 ``invalid_tenant``."""

    model_config = ConfigDict(strict=True, extra="forbid")

    name: str = Field(
        min_length=1,
        max_length=100,
        examples=["Example shop"],
        json_schema_extra={"pattern": NAME_PATTERN},
    )
    rp_id: str = Field(
        max_length=253, examples=["shop.example"], json_schema_extra={"pattern": HOST_PATTERN}
    )
    origins: list[Origin] = Field(min_length=1, max_length=20, examples=[["https://shop.example"]])


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
    tenant, key = await passkey_api.create_tenant(
        ctx, body.name, body.rp_id, body.origins, actor="admin-api"
    )
    return JSONResponse({**_tenant_view(tenant), "api_key": key}, status_code=201, headers=NO_STORE)


async def _tenant(ctx: Ctx, tenant_id: str) -> Tenant:
    tenant = await passkey_api.find_tenant(ctx, tenant_id)
    if tenant is None:
        raise HTTPException(404)
    return tenant


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
    if not await passkey_api.revoke_api_key(ctx, tenant, lookup, actor="admin-api"):
        raise HTTPException(404)
    return Response(status_code=204)


@router.delete("/tenants/{tenant_id}", status_code=204)
async def delete_tenant(tenant_id: TenantId, ctx: Ctx) -> Response:
    """Deletes the tenant, its API keys and every passkey its users registered."""
    await passkey_api.delete_tenant(ctx, await _tenant(ctx, tenant_id), actor="admin-api")
    return Response(status_code=204)
