"""The refresh token grant (RFC 6749 section 6) with rotation (RFC 9700 section 4.14.2).

Each use returns a new refresh token and voids the old one; presenting a voided one revokes
the whole family, since either the client or an attacker holds a copy it should not. A refresh
may ask for less scope than was granted, never more, and ends with the user's browser session.

A public client's refresh token bound to a DPoP key needs a proof by that key (RFC 9449 5). A
client held to the FAPI 2.0 profile keeps its refresh token (FAPI 2.0 Security Profile
5.3.2.1: no rotation; it is bound to the client's authentication): each use checks it and
leaves it as it is.

Round trips: one joined read (grant, user, session, and the client row's version, which
confirms the cached row the request was authenticated against: ``service.db.clients``) and
one compare-and-set update, each autocommitted on the driver's connection
(``service.db.hot``). On PostgreSQL both are one statement: the swap is made on the chance
that the request is good, conditional on everything the database can tell (the token's hash,
its client, not revoked, not expired, the client row current), and given back with one more
statement if a rule checked here refuses the request (a disabled user, an ended session, a
DPoP key, a scope beyond the grant's). An app that admits only some groups, or was granted the
``groups`` scope, adds one query between the read and the swap (``service.oidc.groups``):
someone taken out of the app's groups gets no new tokens.
"""

from __future__ import annotations

import hmac
from datetime import datetime

from service.db import grants as grant_rows
from service.db import hot
from service.db.models import Grant, OAuthClient, Session, User
from service.keys.keyed import new_token
from service.oidc import device, tokens
from service.oidc.assurance.dpop import Proof
from service.oidc.context import OidcContext
from service.oidc.errors import InvalidGrant, InvalidScope, OAuthError
from service.oidc.grants.base import (
    GrantType,
    Registering,
    Response,
    admitted_groups,
    idle_expiry,
    refresh_expiry,
    requested_resource,
    required,
    revoke_family,
    session_alive,
    tokens_for_user,
    user_active,
)
from service.oidc.groups import needs_membership


def _narrowed(granted: str, asked: str | None) -> tuple[str, ...]:
    """RFC 6749 6: a refresh may ask for less than was granted, never more."""
    scope = tuple(granted.split())
    if asked is None:
        return scope
    wanted = asked.split()
    if not set(wanted) <= set(scope):
        raise InvalidScope("a refresh may not ask for scopes beyond those granted")
    return tuple(s for s in scope if s in wanted)


async def _revoke_reused(ctx: OidcContext, grant: Grant, client: OAuthClient) -> None:
    detail = f"refresh token reused by {client.client_id}: the family is revoked"
    await revoke_family(ctx, grant.gid, user_id=grant.user_id, detail=detail)


async def rotate_refresh_token(
    ctx: OidcContext, client: OAuthClient, params: dict[str, str], proof: Proof | None
) -> Response:
    token = required(params, "refresh_token")
    lookup, dot, _ = token.partition(".")
    if not dot or len(lookup) != 22 or len(token) > 200:
        raise InvalidGrant("the refresh token is invalid")
    now = ctx.clock.now()
    # A FAPI 2.0 client keeps its token: the same compare-and-set then only moves its idle
    # expiry on.
    new_value = token if client.profile == "fapi2" else f"{lookup}.{new_token()}"
    new_hash = tokens.refresh_hash(ctx, new_value)
    async with hot.connect(ctx.db) as conn:
        # On PostgreSQL the swap is tried in the read's own statement (one round trip), except
        # for an app that admits only some groups, whose membership is asked first.
        early = conn.dialect == "postgresql" and not client.group_restricted
        if early:
            found = await grant_rows.swapped_by_refresh(
                conn, lookup, client, tokens.refresh_hash(ctx, token), new_hash,
                idle_expiry(ctx, client, now), now, proof.jkt if proof else None,
            )  # fmt: skip
        else:
            standing = await grant_rows.standing_by_refresh(conn, lookup, client)
            found = (*standing, False) if standing else None
        if found is None:
            raise InvalidGrant("the refresh token is invalid")
        grant, user, session, swapped = found
        try:
            old_hash = _checked(ctx, client, params, (grant, user, session), token, now)
            if grant.dpop_jkt is not None and (proof is None or proof.jkt != grant.dpop_jkt):
                raise InvalidGrant("the refresh token is bound to a DPoP key this request lacks")
            scope = _narrowed(grant.scope, params.get("scope")) if old_hash is not None else ()
        except OAuthError:
            if swapped:  # refused after all: the token as it was
                await grant_rows.give_back(conn, grant, new_hash)
            raise
        # An app that admits only some groups, or a groups scope, needs a query of its own,
        # and a handler never holds two connections: the swap then waits for it. (A grant
        # swapped early has no groups scope: ``swapped_by_refresh``.)
        deferred = old_hash is not None and needs_membership(client, scope)
        if old_hash is not None and not deferred and not swapped:
            swapped = await _swap(ctx, conn, client, grant, old_hash, now, new_hash)
    groups: tuple[str, ...] = ()
    if deferred:
        assert old_hash is not None and grant.user_id is not None
        groups = await admitted_groups(ctx, client, grant.user_id, scope)
        async with hot.connect(ctx.db) as conn:
            swapped = await _swap(ctx, conn, client, grant, old_hash, now, new_hash)
    if old_hash is None or not swapped:
        # Reused: a voided token, or another request rotated this very token a moment ago.
        await _revoke_reused(ctx, grant, client)
        raise InvalidGrant("the refresh token was already used; its family is revoked")
    assert user is not None
    response = await tokens_for_user(
        ctx, client, grant, user, scope, nonce=None, now=now, groups=groups, proof=proof
    )
    response["refresh_token"] = new_value
    return response


def _checked(
    ctx: OidcContext,
    client: OAuthClient,
    params: dict[str, str],
    found: tuple[Grant, User | None, Session | None],
    token: str,
    now: datetime,
) -> bytes | None:
    """Every rule: the presented token's hash, or None when it was voided (reused)."""
    grant, user, session = found
    assert grant.id is not None and grant.refresh_hash is not None
    if grant.client_pk != client.id:
        raise InvalidGrant("the refresh token was issued to another client")
    if grant.revoked_at is not None:
        raise InvalidGrant("the refresh token has been revoked")
    old_hash = tokens.refresh_hash(ctx, token)
    if not hmac.compare_digest(old_hash, grant.refresh_hash):
        return None
    if grant.refresh_expires_at is None or now >= min(grant.refresh_expires_at, grant.expires_at):
        raise InvalidGrant("the refresh token has expired")
    if not user_active(user):
        raise InvalidGrant("the user account is not active")
    requested_resource(params, grant.resource)
    if not session_alive(ctx, session, now, grant):
        raise InvalidGrant("the user has signed out")
    return old_hash


async def _swap(
    ctx: OidcContext,
    conn: hot.HotConnection,
    client: OAuthClient,
    grant: Grant,
    old_hash: bytes,
    now: datetime,
    new_hash: bytes,
) -> bool:
    """The compare-and-set: False when another request swapped the token first."""
    assert grant.id is not None
    return await grant_rows.rotate_refresh_token(
        conn, grant.id, old_hash, new_hash, refresh_expiry(ctx, client, now, grant.expires_at)
    )


# The grants that sign a person in, and so may come with a refresh token.
USER_GRANTS = ("authorization_code", device.GRANT_TYPE)


def registration_problem(client: Registering) -> str | None:
    if not set(USER_GRANTS) & set(client.grant_types):
        return "refresh_token comes with authorization_code (or the device code grant)"
    return None


GRANT = GrantType(
    name="refresh_token",
    parameters=("refresh_token", "scope", "resource"),
    handler=rotate_refresh_token,
    registration_problem=registration_problem,
    default=True,
    confirms_client=True,
)
