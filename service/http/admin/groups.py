"""Admin API: groups of people and their members (the same operations as ``sesame groups``).
Which groups an app admits is set on the app (``allowed_groups`` of ``/admin/clients``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException
from starlette.responses import Response

from service.auth import operators
from service.db.models import User
from service.http.admin.base import GROUP_PATTERN, GroupName, admin_router, found, no_content
from service.http.deps import Ctx
from service.http.oidc import Oidc
from service.oidc import groups
from service.oidc.context import OidcContext

router = admin_router()

GroupPath = Annotated[str, Path(min_length=1, max_length=64, pattern=GROUP_PATTERN)]
Who = Annotated[
    str,
    Path(
        min_length=1,
        max_length=320,
        description="The person's username, email address or user id (the ID token's sub).",
    ),
]


class GroupIn(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    name: GroupName = Field(examples=["staff"])
    description: str = Field(default="", max_length=200)


@router.get("/groups")
async def list_groups(oidc: Oidc) -> list[dict[str, Any]]:
    return [groups.group_view(row, count) for row, count in await groups.list_groups(oidc)]


@router.post("/groups", status_code=201)
async def create_group(body: GroupIn, oidc: Oidc) -> dict[str, Any]:
    """A name already taken, whatever its case, is a 409."""
    created = await groups.create_group(oidc, body.name, body.description, actor="admin-api")
    return groups.group_view(created, 0)


@router.get("/groups/{name}")
async def show_group(name: GroupPath, oidc: Oidc) -> dict[str, Any]:
    """The group, its members (the first thousand by username) and the apps that admit it."""
    return found(await groups.group_detail(oidc, name)).as_dict()


@router.delete("/groups/{name}", status_code=204)
async def delete_group(name: GroupPath, oidc: Oidc) -> Response:
    """409 while an app admits this group: deleting it would open the app to everyone."""
    return no_content(await groups.delete_group(oidc, name, actor="admin-api"))


async def _group_and_person(oidc: OidcContext, ctx: Any, name: str, who: str) -> tuple[Any, User]:
    group = found(await groups.find_group(oidc, name))
    person = await operators.find_user(ctx, who)
    if person is None:
        raise HTTPException(404)
    return group, person.user


@router.put("/groups/{name}/members/{user}", status_code=204)
async def add_member(name: GroupPath, user: Who, oidc: Oidc, ctx: Ctx) -> Response:
    """Idempotent: 204 whether or not the person was in the group already."""
    group, person = await _group_and_person(oidc, ctx, name, user)
    await groups.set_membership(oidc, group, person, True, actor="admin-api")
    return Response(status_code=204)


@router.delete("/groups/{name}/members/{user}", status_code=204)
async def remove_member(name: GroupPath, user: Who, oidc: Oidc, ctx: Ctx) -> Response:
    """404 when the person was not in the group."""
    group, person = await _group_and_person(oidc, ctx, name, user)
    return no_content(await groups.set_membership(oidc, group, person, False, actor="admin-api"))
