"""The console's groups: create and delete them, put people in and out (the same rules as
``sesame groups``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.exceptions import HTTPException
from starlette.responses import Response

from service.auth import operators
from service.auth.context import AuthContext
from service.auth.sessions import CurrentSession
from service.db.models import Group
from service.http.console.base import CHANGE, Admin, Confirmed, actor, console_page, done
from service.http.deps import Ctx
from service.http.oidc import Oidc
from service.http.retry import RetryReadsRoute
from service.oidc import groups
from service.oidc.context import OidcContext

router = APIRouter(route_class=RetryReadsRoute, include_in_schema=False)


@router.get("/console/groups")
async def group_list(request: Request, ctx: Ctx, oidc: Oidc, session: Admin) -> Response:
    listed = await groups.list_groups(oidc)
    return console_page(request, ctx, session, "groups.html", groups=listed)


@router.post("/console/groups", dependencies=CHANGE)
async def create_group(
    name: Annotated[str, Form(max_length=64)],
    oidc: Oidc,
    session: Confirmed,
    description: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    created = await groups.create_group(
        oidc, name.strip(), description.strip(), actor=actor(session)
    )
    return done(f"/console/groups/{created.name}", "group-created")


async def _group(oidc: OidcContext, name: str) -> Group:
    found = await groups.find_group(oidc, name)
    if found is None:
        raise HTTPException(404)
    return found


@router.get("/console/groups/{name}")
async def group_page(name: str, request: Request, ctx: Ctx, oidc: Oidc, session: Admin) -> Response:
    detail = await groups.group_detail(oidc, name)
    if detail is None:
        raise HTTPException(404)
    return console_page(request, ctx, session, "group.html", detail=detail)


async def change_membership(
    ctx: AuthContext, oidc: OidcContext, name: str, who: str, member: bool, by: CurrentSession
) -> Group:
    """Put the person (username, email address or user id) in the group, or take them out;
    404 when either is not there."""
    group = await _group(oidc, name)
    person = await operators.find_user(ctx, who.strip())
    if person is None:
        raise HTTPException(404)
    await groups.set_membership(oidc, group, person.user, member, actor=actor(by))
    return group


@router.post("/console/groups/{name}/members", dependencies=CHANGE)
async def add_member(
    name: str,
    who: Annotated[str, Form(max_length=320)],
    ctx: Ctx,
    oidc: Oidc,
    session: Confirmed,
) -> Response:
    group = await change_membership(ctx, oidc, name, who, True, session)
    return done(f"/console/groups/{group.name}", "joined")


@router.post("/console/groups/{name}/members/{public_id}/remove", dependencies=CHANGE)
async def remove_member(
    name: str, public_id: str, ctx: Ctx, oidc: Oidc, session: Confirmed
) -> Response:
    group = await change_membership(ctx, oidc, name, public_id, False, session)
    return done(f"/console/groups/{group.name}", "left")


@router.post("/console/groups/{name}/delete", dependencies=CHANGE)
async def delete_group(name: str, oidc: Oidc, session: Confirmed) -> Response:
    """Refused (409, with the apps named) while an app admits the group."""
    if not await groups.delete_group(oidc, name, actor=actor(session)):
        raise HTTPException(404)
    return done("/console/groups", "group-deleted")
