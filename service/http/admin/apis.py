"""Admin API: your APIs as resources (the same operations as ``sesame apis``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse, Response

from service.http.admin.base import (
    GROUP_PATTERN,
    NO_STORE,
    ApiId,
    Name,
    admin_router,
    found,
    no_content,
)
from service.http.oidc import Oidc
from service.oidc import apis, roles

router = admin_router()

ApiScope = Field(
    max_length=64, json_schema_extra={"pattern": "^[A-Za-z0-9][A-Za-z0-9:._/-]{0,63}$"}
)


class ApiIn(BaseModel):
    """A resource server: its audience (the ``aud`` of its tokens, RFC 8707) and its own
    scopes (not ``openid``, ``profile``, ``email`` or ``offline_access``)."""

    model_config = ConfigDict(strict=True, extra="forbid")

    name: Name = Field(examples=["Orders API"])
    audience: str = Field(
        max_length=300,
        examples=["https://api.example.com"],
        json_schema_extra={
            "pattern": "^https://[A-Za-z0-9.-]+(?::[1-9][0-9]{0,3})?(?:/[A-Za-z0-9._~/-]*)?$"
        },
    )
    scopes: list[str] = Field(
        min_length=1, max_length=50, examples=[["orders:read", "orders:write"]]
    )


@router.get("/apis")
async def list_apis(oidc: Oidc) -> list[dict[str, Any]]:
    return [apis.api_view(row) for row in await apis.list_apis(oidc)]


@router.post("/apis", status_code=201)
async def create_api(body: ApiIn, oidc: Oidc) -> Response:
    """Registers the API and returns its introspection secret, shown only in this answer."""
    row, secret = await apis.create_api(
        oidc, body.name, body.audience, body.scopes, actor="admin-api"
    )
    return JSONResponse({**apis.api_view(row), "secret": secret}, status_code=201, headers=NO_STORE)


@router.get("/apis/{api_id}")
async def show_api(api_id: ApiId, oidc: Oidc) -> dict[str, Any]:
    """With ``roles``: each role and the groups whose members hold it."""
    api = found(await apis.get_api(oidc, api_id))
    assert api.id is not None
    return {**apis.api_view(api), "roles": await roles.roles_of_api(oidc, api.id)}


RolePath = Annotated[str, Path(min_length=1, max_length=64, pattern=f"^{roles.ROLE.pattern}$")]
GroupPath = Annotated[str, Path(min_length=1, max_length=64, pattern=GROUP_PATTERN)]


@router.put("/apis/{api_id}/roles/{role}/groups/{group}", status_code=204)
async def grant_role(api_id: ApiId, role: RolePath, group: GroupPath, oidc: Oidc) -> Response:
    """The group's members hold the role at this API (RFC 9068 ``roles``); idempotent."""
    changed = await roles.set_role(oidc, api_id, role, group, True, actor="admin-api")
    return no_content(changed is not None)


@router.delete("/apis/{api_id}/roles/{role}/groups/{group}", status_code=204)
async def revoke_role(api_id: ApiId, role: RolePath, group: GroupPath, oidc: Oidc) -> Response:
    """404 when the group did not hold the role (or the API or group does not exist)."""
    return no_content(
        bool(await roles.set_role(oidc, api_id, role, group, False, actor="admin-api"))
    )


@router.delete("/apis/{api_id}", status_code=204)
async def delete_api(api_id: ApiId, oidc: Oidc) -> Response:
    return no_content(await apis.delete_api(oidc, api_id, actor="admin-api"))
