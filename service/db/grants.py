"""Grants repository: token families issued to clients (see ``models.Grant``). Functions join
the caller's transaction; the caller commits."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Boolean, Column, func, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.db.clients import StaleClient, current_version
from service.db.hot import HotConnection, Statement, columns, pg_placeholders
from service.db.models import Api, Grant, OAuthClient, Session, User


class Forestalled(Exception):
    """A grant's insert found its gid written already, revoked ahead of it (``revoke_ahead``)."""


async def add(session: AsyncSession, row: Grant) -> None:
    session.add(row)


async def revoke_by_gid(session: AsyncSession, gid: str, at: datetime) -> None:
    await session.exec(
        update(Grant)
        .where(col(Grant.gid) == gid, col(Grant.revoked_at).is_(None))
        .values(revoked_at=at)
    )


async def revoke_ahead(
    session: AsyncSession, gid: str, client_pk: int, at: datetime, until: datetime
) -> None:
    """Revoke grant ``gid``, which may not be written yet: when it is not, write it already
    revoked (a placeholder row, no user and no scope, kept until ``until``), so that its own
    insert, which writes nothing over a ``gid`` present (``issue_for_user``), finds it and
    raises ``Forestalled``. The two meet on the unique ``gid``: whichever comes second waits
    for the other's commit, so the grant ends revoked in either order (RFC 6749 4.1.2, for a
    code whose first exchange has claimed it and is still writing its grant)."""
    assert session.bind is not None
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    placeholder = dialect.insert(Grant).values(
        gid=gid, client_pk=client_pk, scope="", amr="", created_at=at, expires_at=until,
        revoked_at=at,
    )  # fmt: skip
    table = Grant.__table__.c  # type: ignore[attr-defined]
    await session.exec(
        placeholder.on_conflict_do_update(
            index_elements=[table.gid],
            set_={"revoked_at": func.coalesce(table.revoked_at, placeholder.excluded.revoked_at)},
        )
    )


async def revoke_for_user(session: AsyncSession, user_id: int, at: datetime) -> None:
    await session.exec(
        update(Grant)
        .where(col(Grant.user_id) == user_id, col(Grant.revoked_at).is_(None))
        .values(revoked_at=at)
    )


async def standing(
    session: AsyncSession, *, gid: str | None = None, refresh_lookup: str | None = None
) -> tuple[Grant, OAuthClient, User | None, Session | None] | None:
    """A grant with its client, its user and the browser session it hangs on (one query)."""
    query = (
        select(Grant, OAuthClient, User, Session)
        .join(OAuthClient, col(OAuthClient.id) == col(Grant.client_pk))
        .outerjoin(User, col(User.id) == col(Grant.user_id))
        .outerjoin(Session, col(Session.sid) == col(Grant.sid))
    )
    if gid is not None:
        query = query.where(Grant.gid == gid)
    else:
        query = query.where(Grant.refresh_lookup == refresh_lookup)
    row = (await session.exec(query)).first()
    return (row[0], row[1], row[2], row[3]) if row else None


async def rotate_refresh(
    session: AsyncSession, pk: int, old_hash: bytes, new_hash: bytes, expires_at: datetime
) -> bool:
    """Compare-and-set on the stored hash: of two concurrent rotations of the same refresh
    token, exactly one updates the row (the other sees the new hash once the row lock is
    released and matches nothing)."""
    result = await session.exec(
        update(Grant)
        .where(
            col(Grant.id) == pk,
            col(Grant.refresh_hash) == old_hash,
            col(Grant.revoked_at).is_(None),
        )
        .values(refresh_hash=new_hash, refresh_expires_at=expires_at)
    )
    return result.rowcount == 1


# -- the token endpoint's statements (service.db.hot): no ORM session, few round trips --------

_ISSUED = (
    "gid", "client_pk", "user_id", "sid", "scope", "resource", "auth_time", "amr",
    "created_at", "expires_at", "refresh_lookup", "refresh_hash", "refresh_expires_at",
    "dpop_jkt",
)  # fmt: skip
_NAMES = ", ".join(_ISSUED)
_PARAMS = [*columns(Grant, *_ISSUED), *columns(OAuthClient, "version")]
# client_pk is $2 and the client's version as the request saw it $15: nothing is written for a
# client row changed since (service.db.clients.ClientCache).
_IF_CURRENT = (
    "EXISTS (SELECT 1 FROM oauth_clients WHERE oauth_clients.id = $2"
    " AND oauth_clients.version = $15)"
)
# user_id is $3. Only for an account that is not disabled; nothing is written otherwise.
_IF_ACTIVE = f"FROM users WHERE users.id = $3 AND users.disabled_at IS NULL AND {_IF_CURRENT}"
# A gid present already was revoked ahead of its grant (revoke_ahead): nothing is written.
_UNLESS_FORESTALLED = "ON CONFLICT (gid) DO NOTHING"
_GID_TAKEN = Statement(
    "SELECT gid FROM oauth_grants WHERE gid = $1",
    columns(Grant, "gid"),
    scalars=columns(Grant, "gid"),
)
# PostgreSQL: the conditional insert and the user's row, in one statement (one round trip).
# A parameter in a SELECT list has no type to be inferred from: cast (``typed_param``).
_TYPED = pg_placeholders(len(_ISSUED), columns(Grant, *_ISSUED))
_ISSUE_FOR_USER_PG = Statement(
    f"WITH issued AS (INSERT INTO oauth_grants ({_NAMES}) SELECT {_TYPED} {_IF_ACTIVE} "  # noqa: S608 (our own column names)
    f"{_UNLESS_FORESTALLED} RETURNING user_id)"
    " SELECT {returns} FROM users JOIN issued ON users.id = issued.user_id",
    _PARAMS,
    (User,),
)
# SQLite (no data-modifying CTE): the conditional insert, then the row, on the one connection.
_ISSUE_IF_ACTIVE = Statement(
    f"INSERT INTO oauth_grants ({_NAMES}) SELECT {pg_placeholders(len(_ISSUED))} {_IF_ACTIVE}"
    f" {_UNLESS_FORESTALLED}",
    _PARAMS,
)
# resource is $6: for a token for an API, the API's row still has the scopes the request was
# granted from ($16). Nothing is written for an API changed or deleted since (ApiCache).
_IF_API = "EXISTS (SELECT 1 FROM apis WHERE apis.audience = $6 AND apis.scopes = $16)"
# A grant without a user (client_credentials), for a client row still current; by dialect and
# whether it is for an API.
_ISSUE_FOR_CLIENT = {
    (dialect, for_api): Statement(
        f"INSERT INTO oauth_grants ({_NAMES}) SELECT {listed} WHERE {_IF_CURRENT}"
        + (f" AND {_IF_API}" if for_api else ""),
        [*_PARAMS, *columns(Api, "scopes")] if for_api else _PARAMS,
    )
    for dialect, listed in (("postgresql", _TYPED), ("sqlite", pg_placeholders(len(_ISSUED))))
    for for_api in (False, True)
}
_USER = Statement("SELECT {returns} FROM users WHERE id = $1", columns(User, "id"), (User,))
_STANDING_BY_LOOKUP = Statement(
    "SELECT {returns}, (SELECT version FROM oauth_clients WHERE id = $2) FROM oauth_grants"
    " LEFT JOIN users ON users.id = oauth_grants.user_id"
    " LEFT JOIN sessions ON sessions.sid = oauth_grants.sid"
    " WHERE oauth_grants.refresh_lookup = $1",
    columns(Grant, "refresh_lookup") + columns(OAuthClient, "id"),
    (Grant, User, Session),
    columns(OAuthClient, "version"),
)
# PostgreSQL: the refresh token's compare-and-set in the same statement as the read, made on
# the chance that the request is good (the caller then judges it on the row as it was and gives
# the token back, ``give_back``, if it is not). $1 the lookup, $2 the client's id and $7 its
# version as the request saw it, $3 the new hash, $4 the new idle expiry (never past the
# grant's), $5 the presented token's hash, $6 now, $8 the DPoP key the request proved (a token
# bound to another key is never swapped, so one stolen without its key changes nothing). A
# grant with the ``groups`` scope is not swapped here: its swap waits for the membership
# query. The main query reads the row as it was before the update (one snapshot for the whole
# statement).
_SWAPPED_BY_LOOKUP_PG = Statement(
    "WITH swapped AS (UPDATE oauth_grants SET refresh_hash = $3,"
    " refresh_expires_at = LEAST($4::TIMESTAMP WITH TIME ZONE, oauth_grants.expires_at)"
    " WHERE refresh_lookup = $1 AND refresh_hash = $5 AND revoked_at IS NULL"
    " AND client_pk = $2 AND refresh_expires_at > $6 AND expires_at > $6"
    " AND ' ' || scope || ' ' NOT LIKE '% groups %' AND (dpop_jkt IS NULL OR dpop_jkt = $8)"
    " AND EXISTS (SELECT 1 FROM oauth_clients WHERE id = $2 AND version = $7) RETURNING id)"
    " SELECT {returns}, (SELECT version FROM oauth_clients WHERE id = $2),"
    " EXISTS (SELECT 1 FROM swapped) FROM oauth_grants"
    " LEFT JOIN users ON users.id = oauth_grants.user_id"
    " LEFT JOIN sessions ON sessions.sid = oauth_grants.sid"
    " WHERE oauth_grants.refresh_lookup = $1",
    [
        *columns(Grant, "refresh_lookup"),
        *columns(OAuthClient, "id"),
        *columns(Grant, "refresh_hash", "refresh_expires_at", "refresh_hash", "expires_at"),
        *columns(OAuthClient, "version"),
        *columns(Grant, "dpop_jkt"),
    ],
    (Grant, User, Session),
    [*columns(OAuthClient, "version"), Column("swapped", Boolean())],
)
_ROTATE = Statement(
    "UPDATE oauth_grants SET refresh_hash = $1, refresh_expires_at = $2"
    " WHERE id = $3 AND refresh_hash = $4 AND revoked_at IS NULL",
    columns(Grant, "refresh_hash", "refresh_expires_at", "id", "refresh_hash"),
)


def _issued(row: Grant, client: OAuthClient) -> list[object]:
    return [*(getattr(row, name) for name in _ISSUED), client.version]


async def insert_for_client(
    conn: HotConnection, row: Grant, client: OAuthClient, api: Api | None = None
) -> None:
    """Write ``row`` if ``client`` is still the current row and, for a token for ``api``
    (``row.resource`` its audience), if that API still has the scopes ``api`` has;
    ``StaleClient`` otherwise, nothing written."""
    values = _issued(row, client)
    if api is not None:
        values.append(api.scopes)
    statement = _ISSUE_FOR_CLIENT[conn.dialect, api is not None]
    if await conn.execute(statement, *values) != 1:
        raise StaleClient


async def issue_for_user(conn: HotConnection, row: Grant, client: OAuthClient) -> User | None:
    """Write ``row`` if its user exists and is not disabled, and return that user; None (and
    nothing written) otherwise. ``StaleClient`` (nothing written) when ``client`` is no longer
    the current row, ``Forestalled`` when ``row.gid`` was revoked ahead of it: both asked only
    when nothing was written, so a request pays for them only then."""
    values = _issued(row, client)
    if conn.dialect == "postgresql":
        found = await conn.row(_ISSUE_FOR_USER_PG, *values)
        written = found is not None
    else:
        written = await conn.execute(_ISSUE_IF_ACTIVE, *values) == 1
        found = await conn.row(_USER, row.user_id) if written else None
    if not written:
        if await current_version(conn, row.client_pk) != client.version:
            raise StaleClient
        if await conn.row(_GID_TAKEN, row.gid) is not None:
            raise Forestalled
    return cast(User | None, found[0] if found else None)


async def standing_by_refresh(
    conn: HotConnection, lookup: str, client: OAuthClient
) -> tuple[Grant, User | None, Session | None] | None:
    """A grant by its refresh token's lookup, with its user and the browser session it hangs
    on (one query); ``StaleClient`` when ``client`` is no longer the current row."""
    found = await conn.row(_STANDING_BY_LOOKUP, lookup, client.id)
    if found is None:
        return None
    if found[3] != client.version:
        raise StaleClient
    return (found[0], found[1], found[2])


async def swapped_by_refresh(
    conn: HotConnection,
    lookup: str,
    client: OAuthClient,
    presented: bytes,
    new_hash: bytes,
    idle_expiry: datetime,
    now: datetime,
    jkt: str | None,
) -> tuple[Grant, User | None, Session | None, bool] | None:
    """``standing_by_refresh`` with the compare-and-set made in the same round trip
    (PostgreSQL): the grant as it was, and whether its refresh token was swapped from
    ``presented`` to ``new_hash`` (only for the client's own current row, a token unrevoked and
    unexpired, not bound to a DPoP key other than ``jkt``, and a grant without the ``groups``
    scope). ``StaleClient``, nothing written, when ``client`` is no longer the current row."""
    found = await conn.row(
        _SWAPPED_BY_LOOKUP_PG, lookup, client.id, new_hash, idle_expiry, presented, now,
        client.version, jkt,
    )  # fmt: skip
    if found is None:
        return None
    if found[3] != client.version:
        raise StaleClient
    return (found[0], found[1], found[2], bool(found[4]))


async def give_back(conn: HotConnection, grant: Grant, new_hash: bytes) -> None:
    """Undo a swap made by ``swapped_by_refresh`` for a request then refused: the grant's token
    and idle expiry as they were (unless the grant was revoked meanwhile)."""
    assert grant.id is not None and grant.refresh_hash is not None
    await conn.execute(_ROTATE, grant.refresh_hash, grant.refresh_expires_at, grant.id, new_hash)


async def rotate_refresh_token(
    conn: HotConnection, pk: int, old_hash: bytes, new_hash: bytes, expires_at: datetime
) -> bool:
    """``rotate_refresh`` in one autocommitted statement: the same compare-and-set."""
    return await conn.execute(_ROTATE, new_hash, expires_at, pk, old_hash) == 1
