"""Token introspection (RFC 7662) for confidential clients and resource servers.

Only a confidential client may ask (2.1: the endpoint must be protected). An inactive answer is
just ``{"active": false}`` whatever the reason (2.2). Refresh tokens are introspected only by the
client they were issued to.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from typing import Any

from service.db import grants as grant_rows
from service.db.models import Api
from service.oidc.access import ANY_AUDIENCE, check_access_token
from service.oidc.apis import API_ID_PREFIX, authenticate_api
from service.oidc.client_auth import Credentials, authenticate_client, credentials_of, method_of
from service.oidc.context import OidcContext
from service.oidc.errors import InvalidClient, InvalidRequest, InvalidToken
from service.oidc.grants.base import session_alive, user_active
from service.oidc.params import form_params
from service.oidc.presented import Presented
from service.oidc.tokens import refresh_hash

INACTIVE: dict[str, Any] = {"active": False}


async def introspect(
    ctx: OidcContext, pairs: Iterable[tuple[str, str]], presented: Presented
) -> dict[str, Any]:
    params = form_params(pairs)
    creds = credentials_of(params, presented)
    api = await _api_asking(ctx, creds)
    client_pk: int | None = None
    if api is None:
        client = await authenticate_client(ctx, creds)
        if client.type != "confidential":
            raise InvalidClient("introspection is for confidential clients")
        client_pk = client.id
    token = params.get("token")
    if token is None:
        raise InvalidRequest("token is required")
    lookup, dot, _ = token.partition(".")
    if dot and token.count(".") == 1:
        # Refresh tokens are the client's business, never an API's.
        return await _refresh(ctx, client_pk, lookup, token) if api is None else INACTIVE
    try:
        # An API learns of tokens for itself only (RFC 8707 2: a token for API A is not one
        # for API B); a client, of any Sesame issued.
        audience = api.audience if api is not None else ANY_AUDIENCE
        standing = await check_access_token(ctx, token, audience)
    except InvalidToken:
        return INACTIVE
    claims = standing.claims
    bound = {"token_type": "DPoP", "cnf": claims["cnf"]} if "cnf" in claims else {}
    return {
        "active": True,
        "token_type": "Bearer",
        **{k: claims[k] for k in ("scope", "client_id", "sub", "exp", "iat", "iss", "aud", "jti")},
        # RFC 9449 6.2: the resource server checks the proof against this key.
        **bound,
    }


async def _api_asking(ctx: OidcContext, creds: Credentials) -> Api | None:
    """An API (``api_...``) introspecting with its own id and secret; None for a client."""
    method = method_of(creds)
    api_id, secret = method.claims(creds)
    if not api_id.startswith(API_ID_PREFIX):
        return None
    api = await authenticate_api(ctx, api_id, secret or "")
    if api is None:
        raise InvalidClient("API authentication failed")
    return api


async def _refresh(
    ctx: OidcContext, client_pk: int | None, lookup: str, token: str
) -> dict[str, Any]:
    if len(lookup) != 22:
        return INACTIVE
    now = ctx.clock.now()
    async with ctx.db.session() as db:
        found = await grant_rows.standing(db, refresh_lookup=lookup)
    if found is None:
        return INACTIVE
    grant, owner, user, session = found
    if (
        owner.id != client_pk
        or grant.refresh_hash is None
        or not hmac.compare_digest(grant.refresh_hash, refresh_hash(ctx, token))
        or grant.revoked_at is not None
        or grant.refresh_expires_at is None
        or now >= min(grant.refresh_expires_at, grant.expires_at)
        or not user_active(user)
        or not session_alive(ctx, session, now, grant)
    ):
        return INACTIVE
    assert user is not None
    return {
        "active": True,
        "token_type": "refresh_token",
        "scope": grant.scope,
        "client_id": owner.client_id,
        "sub": str(user.public_id),
        "exp": int(min(grant.refresh_expires_at, grant.expires_at).timestamp()),
        "iat": int(grant.created_at.timestamp()),
        "iss": ctx.settings.issuer,
    }
