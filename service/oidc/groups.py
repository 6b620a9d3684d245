"""Groups of people and the apps they may enter (issue 15).

* A group has a name (1 to 64 letters, digits, ``.``, ``_`` or ``-``, unique whatever the case)
  and members. The ``groups`` scope puts the names of the person's groups in the ID token and
  at UserInfo (a ``groups`` claim, as Keycloak, Okta and Azure AD name it).
* An app may admit only the members of some groups ("allowed groups"). Anyone else gets a page
  saying so, and the app gets ``access_denied`` (RFC 6749 4.1.2.1), never a code; the token
  endpoint checks again at every code, device code and refresh token exchange, so taking
  someone out of a group ends their access at the app's next refresh.
* A group an app admits cannot be deleted: deleting it must never open the app to everyone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from service import audit
from service.db import clients as client_rows
from service.db import groups as group_rows
from service.db.models import Group, OAuthClient, User
from service.oidc.context import OidcContext
from service.problems import Problem

GROUP_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
MAX_ALLOWED_GROUPS = 20


class GroupRejected(Problem):
    """A group name or description that breaks a rule; the message says which."""

    error = "invalid_group"


class GroupTaken(GroupRejected):
    error = "group_taken"
    status_code = 409


class GroupInUse(Problem):
    """Apps admit this group: deleting it would open them to everyone."""

    error = "group_in_use"
    status_code = 409


class UnknownGroup(GroupRejected):
    """An app's allowed groups name a group that does not exist."""


def checked_name(name: str) -> str:
    if not GROUP_NAME.fullmatch(name):
        raise GroupRejected(
            "group name: 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return name


async def create_group(
    ctx: OidcContext, name: str, description: str = "", *, actor: str = "admin"
) -> Group:
    checked_name(name)
    if len(description) > 200 or any(ord(c) < 32 for c in description):
        raise GroupRejected("description: at most 200 characters, no control characters")
    async with ctx.db.session() as db:
        group = Group(
            name=name, name_key=name.lower(), description=description, created_at=ctx.clock.now()
        )
        try:
            await group_rows.add(db, group)
        except group_rows.DuplicateGroup as exc:
            raise GroupTaken(f"a group named {name!r} exists already") from exc
        await audit.record(db, ctx.clock, "group.created", user_id=None, actor=actor, detail=name)
        await db.commit()
    return group


async def find_group(ctx: OidcContext, name: str) -> Group | None:
    if not GROUP_NAME.fullmatch(name):
        return None
    async with ctx.db.session() as db:
        return await group_rows.by_name_key(db, name.lower())


async def list_groups(ctx: OidcContext) -> list[tuple[Group, int]]:
    """Every group with its number of members, by name."""
    async with ctx.db.session() as db:
        return await group_rows.all_with_counts(db)


@dataclass(frozen=True)
class GroupDetail:
    group: Group
    members: list[User]
    apps: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {
            **group_view(self.group),
            "members": [
                {"id": str(u.public_id), "username": u.username, "email": u.email}
                for u in self.members
            ],
            "apps": self.apps,
        }


async def group_detail(ctx: OidcContext, name: str, limit: int = 1000) -> GroupDetail | None:
    """A group with its members (the first ``limit`` by username) and the apps it admits."""
    group = await find_group(ctx, name)
    if group is None:
        return None
    assert group.id is not None
    async with ctx.db.session() as db:
        members = await group_rows.members(db, group.id, limit)
        apps = await group_rows.clients_admitting(db, group.id)
    return GroupDetail(group, members, apps)


def group_view(group: Group, members: int | None = None) -> dict[str, Any]:
    view: dict[str, Any] = {
        "name": group.name,
        "description": group.description,
        "created_at": group.created_at.isoformat(),
    }
    if members is not None:
        view["member_count"] = members
    return view


async def delete_group(ctx: OidcContext, name: str, *, actor: str = "admin") -> bool:
    """False when there is no such group; ``GroupInUse`` while an app admits it."""
    group = await find_group(ctx, name)
    if group is None:
        return False
    assert group.id is not None
    async with ctx.db.session() as db:
        apps = await group_rows.clients_admitting(db, group.id)
        if apps:
            raise GroupInUse(
                "apps admit only this group's members: %(apps)s; take it off them first",
                apps=", ".join(apps),
            )
        await group_rows.delete_group(db, group.id)
        await audit.record(
            db, ctx.clock, "group.deleted", user_id=None, actor=actor, detail=group.name
        )
        try:
            await db.commit()
        except IntegrityError as exc:  # an app was given this group meanwhile (RESTRICT)
            raise GroupInUse("an app admits this group now; take it off first") from exc
    return True


async def set_membership(
    ctx: OidcContext, group: Group, user: User, member: bool, *, actor: str = "admin"
) -> bool:
    """Put the person in the group or take them out; False when they already were (or were
    not) in it. Taken out, they keep no access to apps that admit only this group: the next
    sign-in is refused, and so is the app's next refresh."""
    assert group.id is not None and user.id is not None
    async with ctx.db.session() as db:
        if member:
            changed = await group_rows.add_member(db, group.id, user.id, ctx.clock.now())
        else:
            changed = await group_rows.remove_member(db, group.id, user.id)
        if changed:
            kind = "group.member_added" if member else "group.member_removed"
            await audit.record(db, ctx.clock, kind, user_id=user.id, actor=actor, detail=group.name)
        try:
            await db.commit()
        except IntegrityError:  # the same person added by a concurrent request
            return False
    return changed


async def allowed_groups(ctx: OidcContext, client: OAuthClient) -> list[str]:
    assert client.id is not None
    async with ctx.db.session() as db:
        return await group_rows.allowed_for_client(db, client.id)


async def resolve_allowed(ctx: OidcContext, names: Sequence[str]) -> list[int]:
    """The ids of the groups named, every one of which must exist."""
    if len(names) > MAX_ALLOWED_GROUPS:
        raise GroupRejected(f"allowed groups: at most {MAX_ALLOWED_GROUPS}")
    keys = [checked_name(n).lower() for n in names]
    async with ctx.db.session() as db:
        found = {g.name_key: g for g in await group_rows.by_name_keys(db, keys)}
    missing = [n for n in names if n.lower() not in found]
    if missing:
        raise UnknownGroup("no such group: %(names)s", names=", ".join(missing))
    return [pk for key in keys if (pk := found[key].id) is not None]


@dataclass(frozen=True)
class Membership:
    """What a token or a sign-in needs of the person's groups for one app."""

    groups: tuple[str, ...]
    admitted: bool


def needs_membership(client: OAuthClient, scope: Sequence[str]) -> bool:
    """Only apps that admit some groups, or ask for the ``groups`` scope, pay the query."""
    return client.group_restricted or "groups" in scope


async def membership(
    ctx: OidcContext, client_pk: int, restricted: bool, user_pk: int
) -> Membership:
    """The person's groups and whether the app admits them, in one query."""
    async with ctx.db.session() as db:
        rows = await group_rows.memberships(db, user_pk, client_pk)
    return _judged(rows, restricted)


def _judged(rows: list[tuple[str, bool]], restricted: bool) -> Membership:
    """The group names, and admitted unless the app restricts and no group admits them."""
    admitted = not restricted or any(flag for _, flag in rows)
    return Membership(tuple(name for name, _ in rows), admitted)


async def membership_by_client_id(ctx: OidcContext, client_id: str, user_pk: int) -> Membership:
    """For the authorization endpoint, which holds the client's id."""
    async with ctx.db.session() as db:
        client = await client_rows.by_client_id(db, client_id)
        if client is None or client.id is None:
            return Membership((), False)
        rows = await group_rows.memberships(db, user_pk, client.id)
    return _judged(rows, client.group_restricted)


async def record_refusal(ctx: OidcContext, client_id: str, user_pk: int) -> None:
    await audit.record_alone(
        ctx.db, ctx.clock, "app.refused", user_id=user_pk, actor="system", detail=client_id
    )


async def groups_of(ctx: OidcContext, user: User) -> list[str]:
    """The names of the person's groups, by name."""
    assert user.id is not None
    async with ctx.db.session() as db:
        return await group_rows.names_of_user(db, user.id)
