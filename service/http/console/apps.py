"""The console's apps: register one (the same rules as ``sesame clients create``; the secret
is shown once; a high-assurance app gives the URL of its keys instead and gets none), change
its redirect URIs and the groups it admits, rotate its secret, delete it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.responses import Response

from service.http.console.base import CHANGE, Admin, Confirmed, actor, console_page, done
from service.http.deps import Ctx
from service.http.oidc import Oidc
from service.http.retry import RetryReadsRoute
from service.keys.signing import DEFAULT_ALG
from service.oidc import clients, groups
from service.oidc.assurance.profile import Assurance
from service.oidc.client_changes import ClientChanges, update_client
from service.oidc.clients import SCOPES, ClientRejected, ClientSpec

router = APIRouter(route_class=RetryReadsRoute, include_in_schema=False)

MAX_FIELD = 4000


def _text(form: FormData, name: str, limit: int = MAX_FIELD) -> str:
    value = form.get(name)
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > limit:
        raise ClientRejected(f"{name}: at most {limit} characters")
    return value.strip()


def _lines(form: FormData, name: str) -> list[str]:
    """A list typed in one field, separated by spaces (a URI has none; the input guard
    refuses the line breaks of a text area, as it refuses every control character)."""
    return _text(form, name).split()


@router.get("/console/apps")
async def app_list(request: Request, ctx: Ctx, oidc: Oidc, session: Admin) -> Response:
    apps = await clients.described(oidc, await clients.list_clients(oidc))
    names = [g.name for g, _ in await groups.list_groups(oidc)]
    return console_page(
        request, ctx, session, "apps.html", apps=apps, group_names=names, scopes=SCOPES
    )


@router.post("/console/apps", dependencies=CHANGE)
async def create_app(request: Request, ctx: Ctx, oidc: Oidc, session: Confirmed) -> Response:
    form = await request.form()
    kind = _text(form, "type", 20) or "confidential"
    assurance, alg = Assurance(), DEFAULT_ALG
    if kind == "fapi2":
        # A high-assurance app (FAPI 2.0): private_key_jwt with the keys it publishes, PAR,
        # DPoP, ES256 ID tokens (service.oidc.assurance.profile); it gets no secret.
        kind, alg = "confidential", "ES256"
        assurance = Assurance(jwks_uri=_text(form, "jwks_uri", 2000), profile="fapi2")
    spec = ClientSpec(
        name=_text(form, "name", 100),
        type=kind,
        id_token_alg=alg,
        assurance=assurance,
        redirect_uris=_lines(form, "redirect_uris"),
        post_logout_redirect_uris=_lines(form, "post_logout_redirect_uris"),
        # An OpenID Connect app always has openid; the form ticks the others.
        scopes=["openid", *(s for s in form.getlist("scope") if isinstance(s, str))],
        first_party=form.get("first_party") == "yes",
    )
    row, secret = await clients.create_client(oidc, spec, actor=actor(session))
    return console_page(
        request, ctx, session, "app_created.html", app=clients.client_view(row), secret=secret
    )


async def _app(oidc: Any, client_id: str) -> dict[str, Any]:
    found = await clients.describe(oidc, await clients.get_client(oidc, client_id))
    if found is None:
        raise HTTPException(404)
    return found


@router.get("/console/apps/{client_id}")
async def app_page(
    client_id: str, request: Request, ctx: Ctx, oidc: Oidc, session: Admin
) -> Response:
    names = [g.name for g, _ in await groups.list_groups(oidc)]
    return console_page(
        request, ctx, session, "app.html", app=await _app(oidc, client_id), group_names=names
    )


@router.post("/console/apps/{client_id}/uris", dependencies=CHANGE)
async def set_uris(client_id: str, request: Request, oidc: Oidc, session: Confirmed) -> Response:
    """The redirect URIs and post-logout redirect URIs, checked as at
    registration."""
    form = await request.form()
    changes = ClientChanges(
        redirect_uris=_lines(form, "redirect_uris"),
        post_logout_redirect_uris=_lines(form, "post_logout_redirect_uris"),
    )
    if await update_client(oidc, client_id, changes, actor=actor(session)) is None:
        raise HTTPException(404)
    return done(f"/console/apps/{client_id}", "app-saved")


@router.post("/console/apps/{client_id}/groups", dependencies=CHANGE)
async def set_app_groups(
    client_id: str, request: Request, oidc: Oidc, session: Confirmed
) -> Response:
    """The ticked groups (none: the app admits everyone)."""
    form = await request.form()
    chosen = [v for v in form.getlist("group") if isinstance(v, str)]
    changes = ClientChanges(allowed_groups=chosen)
    if await update_client(oidc, client_id, changes, actor=actor(session)) is None:
        raise HTTPException(404)
    return done("/console/apps", "app-groups")


@router.post("/console/apps/{client_id}/rotate-secret", dependencies=CHANGE)
async def rotate_secret(
    client_id: str, request: Request, ctx: Ctx, oidc: Oidc, session: Confirmed
) -> Response:
    """The old secret stops working at once; the new one is shown only on this page."""
    secret = await clients.rotate_secret(oidc, client_id, actor=actor(session))
    if secret is None:
        raise HTTPException(404)
    app = await _app(oidc, client_id)
    return console_page(request, ctx, session, "app_created.html", app=app, secret=secret)


@router.post("/console/apps/{client_id}/delete", dependencies=CHANGE)
async def delete_app(client_id: str, oidc: Oidc, session: Confirmed) -> Response:
    """Everything issued to the app goes with it."""
    if not await clients.delete_client(oidc, client_id, actor=actor(session)):
        raise HTTPException(404)
    return done("/console/apps", "app-deleted")
