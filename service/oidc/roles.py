"""Roles at your APIs (issue 15, RFC 9068 2.2.3.1): a group holds roles at an API
(``sesame apis grant-role``, ``/admin/apis/{id}/roles/...``); an access token issued to a
person for that API (``resource``) carries ``roles``: those of all their groups, [] for none.
Tokens for Sesame itself, and for apps acting on their own behalf, carry none."""

from __future__ import annotations

import re

from service import audit
from service.db import apis as api_rows
from service.db import groups as group_rows
from service.db import roles as role_rows
from service.oidc.context import OidcContext
from service.problems import Problem

ROLE = re.compile(r"[A-Za-z0-9][A-Za-z0-9:._/-]{0,63}")


class RoleRejected(Problem):
    error = "invalid_role"


async def set_role(
    ctx: OidcContext, api_id: str, role: str, group: str, held: bool, *, actor: str
) -> bool | None:
    """Give the group's members the role at the API, or take it away: whether anything
    changed; None when the API or the group does not exist."""
    if not ROLE.fullmatch(role):
        raise RoleRejected("role: letters, digits and : . _ / -, at most 64")
    async with ctx.db.session() as db:
        api = await api_rows.by_api_id(db, api_id)
        found = await group_rows.by_name_key(db, group.lower())
        if api is None or found is None or api.id is None or found.id is None:
            return None
        change = role_rows.grant if held else role_rows.revoke
        changed = await change(db, api.id, found.id, role)
        if changed:
            detail = f"{api_id} {role} {'to' if held else 'from'} {found.name}"
            await audit.record(
                db, ctx.clock, "api.roles_changed", user_id=None, actor=actor, detail=detail
            )
        await db.commit()
    return changed


async def roles_of_api(ctx: OidcContext, api_pk: int) -> dict[str, list[str]]:
    async with ctx.db.session() as db:
        return await role_rows.of_api(db, api_pk)


async def roles_for(ctx: OidcContext, audience: str, user_pk: int) -> list[str]:
    async with ctx.db.session() as db:
        return await role_rows.of_person(db, audience, user_pk)
