"""API roles repository: which groups hold which role at which API. Functions join the
caller's transaction; the caller commits."""

from __future__ import annotations

from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.db.models import Api, ApiRole, Group, GroupMember


async def grant(session: AsyncSession, api_pk: int, group_pk: int, role: str) -> bool:
    """False when the group held the role already."""
    found = await session.exec(
        select(ApiRole.role).where(
            ApiRole.api_pk == api_pk, ApiRole.group_id == group_pk, ApiRole.role == role
        )
    )
    if found.first() is not None:
        return False
    session.add(ApiRole(api_pk=api_pk, group_id=group_pk, role=role))
    await session.flush()
    return True


async def revoke(session: AsyncSession, api_pk: int, group_pk: int, role: str) -> bool:
    result = await session.exec(
        delete(ApiRole).where(
            col(ApiRole.api_pk) == api_pk,
            col(ApiRole.group_id) == group_pk,
            col(ApiRole.role) == role,
        )
    )
    return bool(result.rowcount)


async def of_api(session: AsyncSession, api_pk: int) -> dict[str, list[str]]:
    """Each role of the API with the names of the groups that hold it."""
    result = await session.exec(
        select(ApiRole.role, Group.name)
        .join(Group, col(Group.id) == ApiRole.group_id)
        .where(ApiRole.api_pk == api_pk)
        .order_by(col(ApiRole.role), col(Group.name_key))
    )
    found: dict[str, list[str]] = {}
    for role, name in result.all():
        found.setdefault(role, []).append(name)
    return found


async def of_person(session: AsyncSession, audience: str, user_pk: int) -> list[str]:
    """The roles the person holds at the API with this audience, through their groups."""
    result = await session.exec(
        select(ApiRole.role)
        .join(Api, col(Api.id) == ApiRole.api_pk)
        .join(GroupMember, col(GroupMember.group_id) == ApiRole.group_id)
        .where(Api.audience == audience, GroupMember.user_id == user_pk)
        .distinct()
        .order_by(col(ApiRole.role))
    )
    return list(result.all())
