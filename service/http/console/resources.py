"""The console's APIs (resource servers, their scopes, and the roles groups hold there) and
passkey API tenants (apps with their own login, and their keys): the same operations and
rules as ``sesame apis`` and ``sesame tenants``; a secret or key is shown once."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.responses import Response

from service import passkey_api
from service.db.models import Tenant
from service.http.console.base import CHANGE, Admin, Confirmed, actor, console_page, done
from service.http.deps import Ctx
from service.http.oidc import Oidc
from service.http.retry import RetryReadsRoute
from service.i18n import N_
from service.oidc import apis, groups, roles
from service.problems import Problem

router = APIRouter(route_class=RetryReadsRoute, include_in_schema=False)

API_ID = N_("API id")
TENANT_ID = N_("Tenant id")


class FieldTooLong(Problem):
    error = "invalid_request"


def _field(form: FormData, name: str, limit: int = 2000) -> str:
    value = form.get(name, "")
    if not isinstance(value, str) or len(value) > limit:
        raise FieldTooLong(f"{name}: at most {limit} characters")
    return value.strip()


def _shown_once(
    request: Request, ctx: Ctx, session: Admin, title: str, ident: tuple[str, str], secret: str
) -> Response:
    """A new secret or key, on this page only (only its keyed hash is kept)."""
    back = "/console/apis" if ident[0] == API_ID else "/console/tenants"
    return console_page(
        request, ctx, session, "shown_once.html",
        title=title, label=ident[0], ident=ident[1], secret=secret, back=back,
    )  # fmt: skip


def _actor(session: Admin) -> str:
    return actor(session)


@router.get("/console/apis")
async def api_list(request: Request, ctx: Ctx, oidc: Oidc, session: Admin) -> Response:
    listed = [
        (api, await roles.roles_of_api(oidc, api.id or 0)) for api in await apis.list_apis(oidc)
    ]
    names = [g.name for g, _ in await groups.list_groups(oidc)]
    return console_page(request, ctx, session, "apis.html", apis=listed, group_names=names)


@router.post("/console/apis", dependencies=CHANGE)
async def create_api(request: Request, ctx: Ctx, oidc: Oidc, session: Confirmed) -> Response:
    form = await request.form()
    api, secret = await apis.create_api(
        oidc,
        _field(form, "name", 100),
        _field(form, "audience", 300),
        _field(form, "scopes").split(),
        actor=actor(session),
    )
    return _shown_once(request, ctx, session, api.name, (API_ID, api.api_id), secret)


@router.post("/console/apis/{api_id}/roles", dependencies=CHANGE)
async def change_role(api_id: str, request: Request, oidc: Oidc, session: Confirmed) -> Response:
    """``held=yes`` gives the group's members the role at this API, anything else takes it."""
    form = await request.form()
    held = form.get("held") == "yes"
    role, group = _field(form, "role", 64), _field(form, "group", 64)
    changed = await roles.set_role(oidc, api_id, role, group, held, actor=actor(session))
    if changed is None:
        raise HTTPException(404)
    return done("/console/apis", "roles-saved")


@router.post("/console/apis/{api_id}/delete", dependencies=CHANGE)
async def delete_api(api_id: str, oidc: Oidc, session: Confirmed) -> Response:
    if not await apis.delete_api(oidc, api_id, actor=actor(session)):
        raise HTTPException(404)
    return done("/console/apis", "api-deleted")


@router.get("/console/tenants")
async def tenant_list(request: Request, ctx: Ctx, session: Admin) -> Response:
    listed = [
        (tenant, await passkey_api.list_keys(ctx, tenant))
        for tenant in await passkey_api.list_tenants(ctx)
    ]
    return console_page(request, ctx, session, "tenants.html", tenants=listed)


@router.post("/console/tenants", dependencies=CHANGE)
async def create_tenant(request: Request, ctx: Ctx, session: Confirmed) -> Response:
    form = await request.form()
    tenant, key = await passkey_api.create_tenant(
        ctx,
        _field(form, "name", 100),
        _field(form, "rp_id", 253),
        _field(form, "origins").split(),
        actor=actor(session),
    )
    return _shown_once(request, ctx, session, tenant.name, (TENANT_ID, tenant.tenant_id), key)


async def _tenant(ctx: Ctx, tenant_id: str) -> Tenant:
    found = await passkey_api.find_tenant(ctx, tenant_id)
    if found is None:
        raise HTTPException(404)
    return found


@router.post("/console/tenants/{tenant_id}/keys", dependencies=CHANGE)
async def add_key(tenant_id: str, request: Request, ctx: Ctx, session: Confirmed) -> Response:
    """Rotation: add a key, deploy it, then revoke the old one."""
    tenant = await _tenant(ctx, tenant_id)
    key = await passkey_api.new_api_key(ctx, tenant, "console", actor=actor(session))
    return _shown_once(request, ctx, session, tenant.name, (TENANT_ID, tenant.tenant_id), key)


@router.post("/console/tenants/{tenant_id}/keys/{lookup}/revoke", dependencies=CHANGE)
async def revoke_key(tenant_id: str, lookup: str, ctx: Ctx, session: Confirmed) -> Response:
    tenant = await _tenant(ctx, tenant_id)
    if not await passkey_api.revoke_api_key(ctx, tenant, lookup[:16], actor=actor(session)):
        raise HTTPException(404)
    return done("/console/tenants", "key-revoked")


@router.post("/console/tenants/{tenant_id}/delete", dependencies=CHANGE)
async def delete_tenant(tenant_id: str, ctx: Ctx, session: Confirmed) -> Response:
    """The tenant, its keys and every passkey its users registered."""
    await passkey_api.delete_tenant(ctx, await _tenant(ctx, tenant_id), actor=actor(session))
    return done("/console/tenants", "tenant-deleted")
