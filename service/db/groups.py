"""Groups repository: groups, their members, and the groups an app admits. Functions join the
caller's transaction; the caller commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import exists, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.db.models import ClientGroup, Group, GroupMember, OAuthClient, User


class DuplicateGroup(Exception):
    """The name is taken (raised from the unique index, so a race loses too)."""


async def add(session: AsyncSession, group: Group) -> Group:
    session.add(group)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise DuplicateGroup(group.name) from exc
    return group


async def by_name_key(session: AsyncSession, name_key: str) -> Group | None:
    result = await session.exec(select(Group).where(Group.name_key == name_key))
    return result.first()


async def by_name_keys(session: AsyncSession, keys: Sequence[str]) -> list[Group]:
    result = await session.exec(select(Group).where(col(Group.name_key).in_(list(keys))))
    return list(result.all())


async def all_with_counts(session: AsyncSession) -> list[tuple[Group, int]]:
    members = (
        select(func.count())
        .select_from(GroupMember)
        .where(GroupMember.group_id == Group.id)
        .scalar_subquery()
    )
    result = await session.exec(select(Group, members).order_by(col(Group.name_key)))
    return [(group, int(count)) for group, count in result.all()]


async def delete_group(session: AsyncSession, pk: int) -> None:
    await session.exec(delete(GroupMember).where(col(GroupMember.group_id) == pk))
    await session.exec(delete(Group).where(col(Group.id) == pk))


async def clients_admitting(session: AsyncSession, group_pk: int) -> list[str]:
    """The client ids of the apps that admit this group."""
    result = await session.exec(
        select(OAuthClient.client_id)
        .join(ClientGroup, col(ClientGroup.client_pk) == OAuthClient.id)
        .where(ClientGroup.group_id == group_pk)
        .order_by(OAuthClient.client_id)
    )
    return list(result.all())


async def members(session: AsyncSession, group_pk: int, limit: int) -> list[User]:
    result = await session.exec(
        select(User)
        .join(GroupMember, col(GroupMember.user_id) == User.id)
        .where(GroupMember.group_id == group_pk)
        .order_by(col(User.username_key))
        .limit(limit)
    )
    return list(result.all())


async def add_member(session: AsyncSession, group_pk: int, user_pk: int, at: datetime) -> bool:
    """False when the person was a member already. A concurrent add of the same person loses
    on the primary key (``IntegrityError`` at flush or commit: the caller's to handle)."""
    if await is_member(session, group_pk, user_pk):
        return False
    session.add(GroupMember(group_id=group_pk, user_id=user_pk, added_at=at))
    await session.flush()
    return True


async def is_member(session: AsyncSession, group_pk: int, user_pk: int) -> bool:
    result = await session.exec(
        select(GroupMember.user_id).where(
            GroupMember.group_id == group_pk, GroupMember.user_id == user_pk
        )
    )
    return result.first() is not None


async def remove_member(session: AsyncSession, group_pk: int, user_pk: int) -> bool:
    result = await session.exec(
        delete(GroupMember).where(
            col(GroupMember.group_id) == group_pk, col(GroupMember.user_id) == user_pk
        )
    )
    return bool(result.rowcount)


async def memberships(
    session: AsyncSession, user_pk: int, client_pk: int
) -> list[tuple[str, bool]]:
    """In one query: the names of the person's groups, each with whether it admits them to
    this client, by name."""
    admits = exists().where(
        col(ClientGroup.group_id) == Group.id, col(ClientGroup.client_pk) == client_pk
    )
    result = await session.exec(
        select(Group.name, admits)
        .join(GroupMember, col(GroupMember.group_id) == Group.id)
        .where(GroupMember.user_id == user_pk)
        .order_by(col(Group.name_key))
    )
    return [(name, bool(flag)) for name, flag in result.all()]


async def allowed_for_client(session: AsyncSession, client_pk: int) -> list[str]:
    """The names of the groups an app admits (none: it admits everyone)."""
    result = await session.exec(
        select(Group.name)
        .join(ClientGroup, col(ClientGroup.group_id) == Group.id)
        .where(ClientGroup.client_pk == client_pk)
        .order_by(col(Group.name_key))
    )
    return list(result.all())


async def set_allowed(session: AsyncSession, client_pk: int, group_pks: Sequence[int]) -> None:
    """Replace the groups an app admits, and its ``group_restricted`` flag with them."""
    await session.exec(delete(ClientGroup).where(col(ClientGroup.client_pk) == client_pk))
    for pk in dict.fromkeys(group_pks):
        session.add(ClientGroup(client_pk=client_pk, group_id=pk))
    await session.exec(
        update(OAuthClient)
        .where(col(OAuthClient.id) == client_pk)
        .values(group_restricted=bool(group_pks))
    )
    await session.flush()


async def allowed_by_client(
    session: AsyncSession, client_pks: Sequence[int]
) -> dict[int, list[str]]:
    """For each of these apps, the names of the groups it admits (absent: none)."""
    if not client_pks:
        return {}
    result = await session.exec(
        select(ClientGroup.client_pk, Group.name)
        .join(Group, col(Group.id) == ClientGroup.group_id)
        .where(col(ClientGroup.client_pk).in_(list(client_pks)))
        .order_by(col(Group.name_key))
    )
    found: dict[int, list[str]] = {}
    for pk, name in result.all():
        found.setdefault(pk, []).append(name)
    return found


async def names_of_user(session: AsyncSession, user_pk: int) -> list[str]:
    result = await session.exec(
        select(Group.name)
        .join(GroupMember, col(GroupMember.group_id) == Group.id)
        .where(GroupMember.user_id == user_pk)
        .order_by(col(Group.name_key))
    )
    return list(result.all())
