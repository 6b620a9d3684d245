"""Checking an access token presented to Sesame (userinfo, introspection, revocation).

RFC 9068 section 4: a JWT with ``typ: at+jwt``, signed by a published key with the expected
algorithm, issued by Sesame for Sesame, unexpired. Then Sesame's own state: the grant it names
has not been revoked, its user is active, and the browser session it came from has not ended.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from service.db import grants as grant_rows
from service.db.models import Grant, OAuthClient, User
from service.keys.signing import TokenInvalid
from service.oidc.context import OidcContext
from service.oidc.errors import InvalidToken
from service.oidc.grants.base import session_alive, user_active
from service.oidc.tokens import ACCESS_TOKEN_ALG, ACCESS_TOKEN_TYP


@dataclass(frozen=True)
class StandingToken:
    claims: dict[str, Any]
    grant: Grant
    client: OAuthClient
    user: User | None


ANY_AUDIENCE = "*"


async def signed_access_claims(
    ctx: OidcContext, token: str, audience: str | None = None
) -> dict[str, Any]:
    """``audience``: the ``aud`` required (Sesame itself by default), or ``ANY_AUDIENCE``."""
    try:
        claims = await ctx.signer.verify(token, algorithms=[ACCESS_TOKEN_ALG], typ=ACCESS_TOKEN_TYP)
    except TokenInvalid as exc:
        raise InvalidToken("the access token is malformed or not signed by Sesame") from exc
    issuer = ctx.settings.issuer
    wanted = audience or issuer
    if claims.get("iss") != issuer or (wanted != ANY_AUDIENCE and claims.get("aud") != wanted):
        raise InvalidToken("the access token was not issued by Sesame for this audience")
    exp = claims.get("exp")
    if not isinstance(exp, int) or exp <= ctx.clock.now().timestamp():
        raise InvalidToken("the access token has expired")
    if not isinstance(claims.get("gid"), str):
        raise InvalidToken("the access token names no grant")
    return claims


async def check_access_token(
    ctx: OidcContext, token: str, audience: str | None = None
) -> StandingToken:
    claims = await signed_access_claims(ctx, token, audience)
    now = ctx.clock.now()
    async with ctx.db.session() as db:
        found = await grant_rows.standing(db, gid=claims["gid"])
    if found is None:
        raise InvalidToken("the access token has been revoked")
    grant, client, user, session = found
    if grant.revoked_at is not None:
        raise InvalidToken("the access token has been revoked")
    alive = session_alive(ctx, session, now, grant)
    if grant.user_id is not None and not (user_active(user) and alive):
        raise InvalidToken("the user has signed out or is no longer active")
    return StandingToken(claims, grant, client, user)
