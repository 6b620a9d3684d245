"""The console's dashboard and people: search, a person's page (passkeys, sessions, groups,
recent activity) and what an administrator may do to an account."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response

from service import audit
from service.auth import account, invitations, operators, overview
from service.auth.names import browser_label
from service.auth.operators import UserSummary
from service.http.console.base import CHANGE, Admin, Confirmed, actor, console_page, done
from service.http.console.groups import change_membership
from service.http.deps import Ctx
from service.http.oidc import Oidc
from service.http.retry import RetryReadsRoute
from service.oidc import consent, groups
from service.oidc.key_rotation import rotate_keys

router = APIRouter(route_class=RetryReadsRoute, include_in_schema=False)


@router.get("/admin")
async def console_home() -> Response:
    """Operators look for the console at /admin; the admin API lives below it."""
    return RedirectResponse("/console", status_code=303)


@router.get("/console")
async def dashboard(request: Request, ctx: Ctx, session: Admin) -> Response:
    return console_page(
        request, ctx, session, "dashboard.html", overview=await overview.overview(ctx)
    )


@router.post("/console/keys/rotate", dependencies=CHANGE)
async def rotate_signing_keys(oidc: Oidc, session: Confirmed) -> Response:
    """New keys are published now and sign after the caches have seen them."""
    await rotate_keys(oidc, actor=actor(session))
    return done("/console", "keys-rotated")


@router.get("/console/users")
async def people(
    request: Request,
    ctx: Ctx,
    session: Admin,
    q: Annotated[str, Query(max_length=100)] = "",
    admins: bool = False,
) -> Response:
    found = await operators.list_users(ctx, 50, search=q.strip(), admins=admins)
    return console_page(request, ctx, session, "users.html", people=found, q=q, admins=admins)


async def _person(ctx: Ctx, public_id: str) -> UserSummary:
    try:
        uuid.UUID(public_id)
    except ValueError as exc:
        raise HTTPException(404) from exc
    found = await operators.find_user(ctx, public_id)
    if found is None:
        raise HTTPException(404)
    return found


@router.get("/console/users/{public_id}")
async def person(
    public_id: str, request: Request, ctx: Ctx, oidc: Oidc, session: Admin
) -> Response:
    found = await _person(ctx, public_id)
    user = found.user
    assert user.id is not None
    return console_page(
        request,
        ctx,
        session,
        "user.html",
        person=found,
        passkeys=await account.list_passkeys(ctx, user),
        member_of=await groups.groups_of(oidc, user),
        all_groups=[g.name for g, _ in await groups.list_groups(oidc)],
        activity=await audit.search(ctx.db, user_id=user.id, limit=20),
        sessions=await operators.sessions_of(ctx, user),
        apps=await consent.allowed_apps(oidc, user.id),
        browser_label=browser_label,
        is_self=user.id == session.user.id,
    )


ACTIONS = ("disable", "enable", "sign-out", "grant-admin", "revoke-admin", "delete")


@router.post("/console/users/{public_id}/{action}", dependencies=CHANGE)
async def act_on_person(public_id: str, action: str, ctx: Ctx, session: Confirmed) -> Response:
    """One form per action; each lands in the audit trail with the administrator as actor."""
    if action not in ACTIONS:
        raise HTTPException(404)
    user = (await _person(ctx, public_id)).user
    here = f"/console/users/{public_id}"
    if action in {"disable", "enable"}:
        disabling = action == "disable"
        await operators.set_disabled(ctx, user, disabling, actor=actor(session), by=session.user)
        return done(here, "disabled" if disabling else "enabled")
    if action == "sign-out":
        await operators.revoke_sessions(ctx, user, actor=actor(session))
        return done(here, "signed-out")
    if action == "delete":
        await operators.delete_user(ctx, user, actor=actor(session), by=session.user)
        return done("/console/users", "deleted")
    granting = action == "grant-admin"
    await operators.set_admin(ctx, user, granting, actor=actor(session), by=session.user)
    return done(here, "admin" if granting else "not-admin")


@router.post("/console/users/{public_id}/passkeys/{credential_pk}/remove", dependencies=CHANGE)
async def remove_passkey(
    public_id: str, credential_pk: int, ctx: Ctx, session: Confirmed
) -> Response:
    """A lost passkey; the owner is told by email."""
    user = (await _person(ctx, public_id)).user
    if not await operators.remove_passkey(ctx, user, credential_pk, actor=actor(session)):
        raise HTTPException(404)
    return done(f"/console/users/{public_id}", "passkey-removed")


@router.post("/console/users/{public_id}/groups", dependencies=CHANGE)
async def join_group(
    public_id: str,
    group: Annotated[str, Form(max_length=64)],
    ctx: Ctx,
    oidc: Oidc,
    session: Confirmed,
) -> Response:
    await change_membership(ctx, oidc, group, public_id, True, session)
    return done(f"/console/users/{public_id}", "joined")


@router.get("/console/invitations")
async def invitation_list(request: Request, ctx: Ctx, oidc: Oidc, session: Admin) -> Response:
    return console_page(
        request,
        ctx,
        session,
        "invitations.html",
        invitations=await invitations.recent(ctx),
        group_names=[g.name for g, _ in await groups.list_groups(oidc)],
        now=ctx.clock.now(),
        signup_mode=ctx.settings.signup,
    )


@router.post("/console/invitations", dependencies=CHANGE)
async def invite(request: Request, ctx: Ctx, session: Confirmed) -> Response:
    """Mails the link; the page also shows it once, for when mail cannot reach the person."""
    form = await request.form()
    email = form.get("email")
    if not isinstance(email, str) or len(email) > 320:
        raise HTTPException(400)
    chosen = [v for v in form.getlist("group") if isinstance(v, str)]
    row, path = await invitations.invite(ctx, email, chosen, actor=actor(session), by=session.user)
    return console_page(
        request,
        ctx,
        session,
        "invited.html",
        invited=row,
        link=f"{ctx.settings.issuer}{path}",
    )
