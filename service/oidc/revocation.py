"""Token revocation (RFC 7009).

The client authenticates; the token may be a refresh token or an access token (``token_type_hint``
is only a hint). Revoking either ends the whole grant: the refresh token and every access token
issued from it (2.1). A token that is unknown, invalid, or belongs to another client gets the
same 200 as a revoked one (2.2), so the endpoint reveals nothing. A storage failure is an error,
never a false success.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable

from service import audit
from service.db import grants as grant_rows
from service.oidc.access import ANY_AUDIENCE, signed_access_claims
from service.oidc.client_auth import authenticate_client, credentials_of
from service.oidc.context import OidcContext
from service.oidc.errors import InvalidRequest, InvalidToken
from service.oidc.params import form_params
from service.oidc.presented import Presented
from service.oidc.tokens import refresh_hash


def _proves(stored: bytes | None, ctx: OidcContext, token: str) -> bool:
    return stored is not None and hmac.compare_digest(stored, refresh_hash(ctx, token))


async def revoke(ctx: OidcContext, pairs: Iterable[tuple[str, str]], presented: Presented) -> None:
    params = form_params(pairs)
    client = await authenticate_client(ctx, credentials_of(params, presented))
    token = params.get("token")
    if token is None:
        raise InvalidRequest("token is required")
    now = ctx.clock.now()
    lookup, dot, _ = token.partition(".")
    async with ctx.db.session() as db:
        if dot and len(lookup) == 22 and token.count(".") == 1:
            found = await grant_rows.standing(db, refresh_lookup=lookup)
            if found and found[1].id == client.id and _proves(found[0].refresh_hash, ctx, token):
                await grant_rows.revoke_by_gid(db, found[0].gid, now)
                await audit.record(
                    db,
                    ctx.clock,
                    "tokens.revoked",
                    user_id=found[0].user_id,
                    actor=f"client:{client.client_id}",
                    detail="refresh token revoked by the client (RFC 7009)",
                )
        else:
            try:
                claims = await signed_access_claims(ctx, token, ANY_AUDIENCE)
            except InvalidToken:
                return
            if claims.get("client_id") == client.client_id:
                await grant_rows.revoke_by_gid(db, claims["gid"], now)
                await audit.record(
                    db,
                    ctx.clock,
                    "tokens.revoked",
                    user_id=None,
                    actor=f"client:{client.client_id}",
                    detail=f"access token of grant {claims['gid'][:8]}... revoked (RFC 7009)",
                )
        await db.commit()
