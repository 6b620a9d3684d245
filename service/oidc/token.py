"""The token endpoint (RFC 6749 section 3.2, OIDC Core 3.1.3), one handler per grant type.

``GRANTS`` is the one table of grant types: the endpoint dispatches on it and discovery
advertises it. Every handler runs after client authentication (``clients.authenticate_client``)
and after checking that the client registered the grant type.

Round trips on the hot path (code exchange), on one pooled connection: the client's row, one
store claim for the code, the user's row, the grant's insert and its commit, then one store read
for a replay recorded meanwhile; signing uses keys cached in memory. A refresh is the client, one
joined read (grant, client, user, session), one compare-and-set update and the commit.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from service import audit
from service.db import grants as grant_rows
from service.db.models import Grant, OAuthClient, Session, User
from service.keys.keyed import new_token
from service.metrics import TOKENS
from service.oidc import codes, pkce, tokens
from service.oidc.clients import authenticate_client, credentials_of
from service.oidc.context import OidcContext
from service.oidc.errors import (
    InvalidGrant,
    InvalidRequest,
    InvalidScope,
    UnauthorizedClient,
    UnsupportedGrantType,
)
from service.oidc.params import form_params

Response = dict[str, Any]
Handler = Callable[[OidcContext, AsyncSession, OAuthClient, dict[str, str]], Awaitable[Response]]


def _pk(client: OAuthClient) -> int:
    assert client.id is not None
    return client.id


def _required(params: dict[str, str], name: str) -> str:
    value = params.get(name)
    if value is None:
        raise InvalidRequest(f"{name} is required")
    return value


def session_alive(ctx: OidcContext, session: Session | None, now: datetime) -> bool:
    """The browser session a grant hangs on still exists and has not expired: signing out (or
    "sign out everywhere") ends the apps' refresh tokens with it."""
    if session is None:
        return False
    idle = timedelta(seconds=ctx.settings.session_idle_seconds)
    return now < session.expires_at and now < session.last_seen_at + idle


def user_active(user: User | None) -> bool:
    return user is not None and user.disabled_at is None


async def _tokens_for_user(
    ctx: OidcContext,
    client: OAuthClient,
    grant: Grant,
    user: User,
    scope: tuple[str, ...],
    *,
    nonce: str | None,
    now: datetime,
) -> Response:
    access = await tokens.access_token(
        ctx,
        client_id=client.client_id,
        subject=str(user.public_id),
        scope=" ".join(scope),
        gid=grant.gid,
        now=now,
    )
    response: Response = {
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": ctx.settings.access_token_seconds,
        "scope": " ".join(scope),
    }
    if "openid" in scope:
        assert grant.auth_time is not None and grant.sid is not None
        response["id_token"] = await tokens.id_token(
            ctx,
            client=client,
            user=user,
            scope=scope,
            nonce=nonce,
            auth_time=grant.auth_time,
            amr=tuple(grant.amr.split()),
            sid=grant.sid,
            access=access,
            now=now,
        )
    return response


async def _revoke_code_grant(
    ctx: OidcContext, db: AsyncSession, gid: str, client: OAuthClient
) -> None:
    """RFC 6749 4.1.2: a code used twice revokes the tokens issued for it."""
    await grant_rows.revoke_by_gid(db, gid, ctx.clock.now())
    await audit.record(
        db,
        ctx.clock,
        "tokens.revoked",
        user_id=None,
        actor="system",
        detail=f"authorization code used twice by {client.client_id}",
    )
    await db.commit()


async def authorization_code(
    ctx: OidcContext, db: AsyncSession, client: OAuthClient, params: dict[str, str]
) -> Response:
    """RFC 6749 4.1.3 and OIDC Core 3.1.3.2: the code is single use, unexpired, issued to this
    client for this redirect URI, and its PKCE challenge is met."""
    code = _required(params, "code")
    redirect_uri = _required(params, "redirect_uri")
    gid = new_token()
    found, first_gid = await codes.redeem_code(ctx, code, gid)
    if found is None:
        assert first_gid is not None
        await _revoke_code_grant(ctx, db, first_gid, client)
        raise InvalidGrant("the code was already used; the tokens issued for it are revoked")
    if found.client_id != client.client_id:
        raise InvalidGrant("the code was issued to another client")
    if found.redirect_uri != redirect_uri:
        raise InvalidGrant("redirect_uri differs from the one in the authorization request")
    pkce.check_verifier(found.code_challenge, params.get("code_verifier"))
    now = ctx.clock.now()
    refresh: tuple[str, str, bytes] | None = None
    if "refresh_token" in client.grant_types.split():
        refresh = tokens.new_refresh_token(ctx)
    lifetime = ctx.settings.refresh_max_seconds if refresh else ctx.settings.access_token_seconds
    grant = Grant(
        gid=gid,
        client_pk=_pk(client),
        user_id=found.user_id,
        sid=found.sid,
        scope=" ".join(found.scope),
        auth_time=found.auth_time,
        amr=" ".join(found.amr),
        created_at=now,
        expires_at=now + timedelta(seconds=lifetime),
        refresh_lookup=refresh[1] if refresh else None,
        refresh_hash=refresh[2] if refresh else None,
        refresh_expires_at=_refresh_expiry(ctx, now, now + timedelta(seconds=lifetime))
        if refresh
        else None,
    )
    user = await db.get(User, found.user_id)
    if not user_active(user):
        raise InvalidGrant("the user account is not active")
    assert user is not None
    await grant_rows.add(db, grant)
    await db.commit()
    if await codes.replayed_meanwhile(ctx, code):
        # A replay came while this grant was being written and found nothing to revoke.
        await _revoke_code_grant(ctx, db, gid, client)
        raise InvalidGrant("the code was used twice; the tokens issued for it are revoked")
    response = await _tokens_for_user(
        ctx, client, grant, user, found.scope, nonce=found.nonce, now=now
    )
    if refresh:
        response["refresh_token"] = refresh[0]
    return response


def _refresh_expiry(ctx: OidcContext, now: datetime, absolute: datetime) -> datetime:
    return min(now + timedelta(seconds=ctx.settings.refresh_idle_seconds), absolute)


def _narrowed(granted: str, asked: str | None) -> tuple[str, ...]:
    """RFC 6749 6: a refresh may ask for less than was granted, never more."""
    scope = tuple(granted.split())
    if asked is None:
        return scope
    wanted = asked.split()
    if not set(wanted) <= set(scope):
        raise InvalidScope("a refresh may not ask for scopes beyond those granted")
    return tuple(s for s in scope if s in wanted)


async def _revoke_reused(
    ctx: OidcContext, db: AsyncSession, grant: Grant, client: OAuthClient
) -> None:
    assert grant.id is not None
    await grant_rows.revoke_by_pk(db, grant.id, ctx.clock.now())
    await audit.record(
        db,
        ctx.clock,
        "tokens.revoked",
        user_id=grant.user_id,
        actor="system",
        detail=f"refresh token reused by {client.client_id}: the family is revoked",
    )
    await db.commit()


async def refresh_token(
    ctx: OidcContext, db: AsyncSession, client: OAuthClient, params: dict[str, str]
) -> Response:
    """RFC 6749 6 with rotation (RFC 9700 4.14.2): each use returns a new refresh token and
    voids the old one; presenting a voided one revokes the whole family, since either the
    client or an attacker holds a copy it should not."""
    token = _required(params, "refresh_token")
    lookup, dot, _ = token.partition(".")
    if not dot or len(lookup) != 22 or len(token) > 200:
        raise InvalidGrant("the refresh token is invalid")
    now = ctx.clock.now()
    found = await grant_rows.standing(db, refresh_lookup=lookup)
    if found is None:
        raise InvalidGrant("the refresh token is invalid")
    grant, owner, user, session = found
    assert grant.id is not None and grant.refresh_hash is not None
    if owner.id != client.id:
        raise InvalidGrant("the refresh token was issued to another client")
    if grant.revoked_at is not None:
        raise InvalidGrant("the refresh token has been revoked")
    old_hash = tokens.refresh_hash(ctx, token)
    if not hmac.compare_digest(old_hash, grant.refresh_hash):
        await _revoke_reused(ctx, db, grant, client)
        raise InvalidGrant("the refresh token was already used; its family is revoked")
    if grant.refresh_expires_at is None or now >= min(grant.refresh_expires_at, grant.expires_at):
        raise InvalidGrant("the refresh token has expired")
    if not user_active(user):
        raise InvalidGrant("the user account is not active")
    if not session_alive(ctx, session, now):
        raise InvalidGrant("the user has signed out")
    assert user is not None
    scope = _narrowed(grant.scope, params.get("scope"))
    new_token_value = f"{lookup}.{new_token()}"
    rotated = await grant_rows.rotate_refresh(
        db,
        grant.id,
        old_hash,
        tokens.refresh_hash(ctx, new_token_value),
        _refresh_expiry(ctx, now, grant.expires_at),
    )
    if not rotated:
        # Another request rotated this very token a moment ago: a concurrent reuse.
        await _revoke_reused(ctx, db, grant, client)
        raise InvalidGrant("the refresh token was already used; its family is revoked")
    await db.commit()
    response = await _tokens_for_user(ctx, client, grant, user, scope, nonce=None, now=now)
    response["refresh_token"] = new_token_value
    return response


async def client_credentials(
    ctx: OidcContext, db: AsyncSession, client: OAuthClient, params: dict[str, str]
) -> Response:
    """RFC 6749 4.4: a confidential client acting for itself; no user, so no ID token and no
    refresh token, and user scopes are not granted."""
    asked = (params.get("scope") or "").split()
    scope = " ".join(s for s in client.scopes.split() if s in asked and s != "openid")
    now = ctx.clock.now()
    grant = Grant(
        gid=new_token(),
        client_pk=_pk(client),
        scope=scope,
        created_at=now,
        expires_at=now + timedelta(seconds=ctx.settings.access_token_seconds),
    )
    await grant_rows.add(db, grant)
    await db.commit()
    access = await tokens.access_token(
        ctx,
        client_id=client.client_id,
        subject=client.client_id,
        scope=scope,
        gid=grant.gid,
        now=now,
    )
    return {
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": ctx.settings.access_token_seconds,
        "scope": scope,
    }


GRANTS: dict[str, Handler] = {
    "authorization_code": authorization_code,
    "refresh_token": refresh_token,
    "client_credentials": client_credentials,
}


async def handle_token_request(
    ctx: OidcContext, pairs: Iterable[tuple[str, str]], authorization: str | None
) -> Response:
    params = form_params(pairs)
    grant_type = _required(params, "grant_type")
    handler = GRANTS.get(grant_type)
    if handler is None:
        raise UnsupportedGrantType(f"grant_type {grant_type[:40]!r} is not supported")
    # One database session (one pooled connection) serves the whole request.
    async with ctx.db.session() as db:
        client = await authenticate_client(
            ctx,
            credentials_of(params, authorization),
            db,
        )
        if grant_type not in client.grant_types.split():
            raise UnauthorizedClient(f"this client is not registered for {grant_type}")
        response = await handler(ctx, db, client, params)
    TOKENS.labels(grant_type).inc()
    return response
