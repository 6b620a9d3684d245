"""``/api/passkeys/v1``: server-to-server JSON for apps that keep their own login.

Every route needs the tenant's API key (``Authorization: Bearer sk_...``). Errors are JSON
``{"error", "message"}`` with a stable ``error`` code.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from service import passkey_api
from service.auth.errors import NotFound
from service.codec import b64url_decode
from service.db.models import Tenant
from service.http.deps import Ctx
from service.http.openapi import error_responses
from service.http.retry import RetryReadsRoute


async def current_tenant(request: Request, ctx: Ctx) -> Tenant:
    tenant = await passkey_api.tenant_for_key(ctx, request.headers.get("authorization"))
    request.state.client_id = tenant.tenant_id  # for the access log
    return tenant


TenantDep = Annotated[Tenant, Depends(current_tenant)]
UserId = Annotated[str, Path(min_length=1, max_length=128)]
# A credential id: at most 1023 bytes (WebAuthn L3 5.1), base64url.
CredentialId = Annotated[str, Path(min_length=1, max_length=1364, pattern="^[A-Za-z0-9_-]+$")]
router = APIRouter(
    route_class=RetryReadsRoute,
    prefix="/api/passkeys/v1",
    tags=["passkey API"],
    responses=error_responses(400, 401, 404, 409, 413, 429, 503),
)


class RegistrationStart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: str = Field(min_length=1, max_length=128, examples=["user-42"])
    username: str = Field(min_length=1, max_length=128, examples=["ada@example.com"])
    display_name: str = Field(default="", max_length=128, examples=["Ada Lovelace"])


class LoginStart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: str | None = Field(default=None, max_length=128, examples=["user-42"])


class Finish(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ceremony: str = Field(max_length=64)
    credential: dict[str, Any] = Field(description="The browser's PublicKeyCredential.toJSON()")


class Rename(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)


def _credential_id(value: str) -> bytes:
    try:
        return b64url_decode(value)
    except ValueError as exc:
        raise NotFound("No such credential.") from exc


@router.post("/registration/initialize")
async def registration_initialize(
    body: RegistrationStart, ctx: Ctx, tenant: TenantDep
) -> dict[str, Any]:
    """Creation options for ``navigator.credentials.create``."""
    user = passkey_api.AppUser(body.user_id, body.username, body.display_name)
    ceremony_id, options = await passkey_api.begin_registration(ctx, tenant, user)
    return {"ceremony": ceremony_id, "publicKey": options}


@router.post("/registration/finalize")
async def registration_finalize(
    body: Finish, request: Request, ctx: Ctx, tenant: TenantDep
) -> dict[str, Any]:
    row = await passkey_api.finish_registration(
        ctx, tenant, body.ceremony, body.credential, request.headers.get("user-agent", "")
    )
    return passkey_api.credential_view(row)


@router.post("/login/initialize")
async def login_initialize(body: LoginStart, ctx: Ctx, tenant: TenantDep) -> dict[str, Any]:
    """Request options for ``navigator.credentials.get`` (for one user, or discoverable)."""
    ceremony_id, options = await passkey_api.begin_login(ctx, tenant, body.user_id)
    return {"ceremony": ceremony_id, "publicKey": options}


@router.post("/login/finalize")
async def login_finalize(body: Finish, ctx: Ctx, tenant: TenantDep) -> dict[str, Any]:
    """A JWT (RS256, Sesame's JWKS): ``sub`` = the app's user id, ``aud`` = the tenant id."""
    return await passkey_api.finish_login(ctx, tenant, body.ceremony, body.credential)


@router.get("/users/{user_id}/credentials")
async def list_credentials(user_id: UserId, ctx: Ctx, tenant: TenantDep) -> list[dict[str, Any]]:
    return await passkey_api.list_credentials(ctx, tenant, user_id)


@router.delete("/users/{user_id}/credentials")
async def delete_user_credentials(user_id: UserId, ctx: Ctx, tenant: TenantDep) -> dict[str, int]:
    return {"deleted": await passkey_api.delete_credentials(ctx, tenant, user_id=user_id)}


@router.patch("/credentials/{credential_id}")
async def rename_credential(
    credential_id: CredentialId, body: Rename, ctx: Ctx, tenant: TenantDep
) -> dict[str, Any]:
    return await passkey_api.rename_credential(
        ctx, tenant, _credential_id(credential_id), body.name
    )


@router.delete("/credentials/{credential_id}", status_code=204)
async def delete_credential(credential_id: CredentialId, ctx: Ctx, tenant: TenantDep) -> Response:
    await passkey_api.delete_credentials(ctx, tenant, credential_id=_credential_id(credential_id))
    return Response(status_code=204)
