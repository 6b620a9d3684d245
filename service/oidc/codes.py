"""Authorization codes (RFC 6749 4.1.2, RFC 9700 4.2.1), in the ephemeral store.

A code is 256 random bits; the store key is its keyed hash. It lives ``code_seconds`` (at most
60), checked against the stored ``expires_at``, and is bound to the client, the redirect URI, the
PKCE challenge and the nonce.

Redeeming is one atomic store ``claim``. The first redemption gets the code's data and leaves a
tombstone naming the grant G it is about to write; a code that was never issued leaves nothing
(no key, no audit row). A replay finds the tombstone, marks it replayed and revokes G (RFC 6749
4.1.2: a code used twice means it leaked). A replay can arrive while the first exchange is still
writing G, when there is nothing yet to revoke: it then writes G itself, already revoked, and
the first exchange's insert of G, which writes nothing over a G present, finds it and refuses
(``service.db.grants.revoke_ahead``). The two meet on G's unique key in the database, so
whichever order they take G ends revoked, and the first exchange asks nothing more of the store
once G is written.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from service.keys.keyed import new_token
from service.oidc.assurance.acr import chosen
from service.oidc.context import OidcContext
from service.oidc.errors import InvalidGrant
from service.oidc.model import Authentication, AuthorizationRequest
from service.store.base import CLAIMED, REPLAYED


@dataclass(frozen=True)
class CodeGrant:
    """What a redeemed code carries into the token response."""

    client_id: str
    redirect_uri: str
    scope: tuple[str, ...]
    nonce: str | None
    code_challenge: str | None
    auth: Authentication
    expires_at: datetime
    resource: str | None = None
    acr: str | None = None  # the ID token's (assurance.acr.chosen)
    dpop_jkt: str | None = None  # RFC 9449 10: the key the token request must prove
    stored: bytes = field(default=b"", repr=False)  # as it was in the store (release_code)


def _key(ctx: OidcContext, code: str) -> str:
    return "code:" + ctx.keys.hash_hex("code", code)


def with_query(uri: str, params: dict[str, str | None]) -> str:
    """Append parameters to a registered URI, keeping its own query (RFC 6749 3.1.2)."""
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"{uri}{'&' if '?' in uri else '?'}{query}"


async def issue_code(ctx: OidcContext, request: AuthorizationRequest, auth: Authentication) -> str:
    """Mint a code and return the redirect URI carrying it, with ``state`` and ``iss``
    (RFC 9207 2)."""
    code = new_token()
    now = ctx.clock.now()
    data: dict[str, Any] = {
        "client_id": request.client_id,
        "redirect_uri": request.redirect_uri,
        "scope": list(request.scope),
        "nonce": request.nonce,
        "code_challenge": request.code_challenge,
        **auth.to_dict(),
        "resource": request.resource,
        "acr": chosen(request.acr_values, auth.amr),
        "dpop_jkt": request.dpop_jkt,
        "expires_at": (now + timedelta(seconds=ctx.settings.code_seconds)).timestamp(),
    }
    await ctx.store.put(_key(ctx, code), json.dumps(data).encode(), ctx.settings.code_seconds)
    return with_query(
        request.redirect_uri,
        {"code": code, "state": request.state, "iss": ctx.settings.issuer},
    )


async def redeem_code(ctx: OidcContext, code: str, gid: str) -> tuple[CodeGrant | None, str | None]:
    """Consume ``code`` for grant ``gid``. Returns ``(grant, None)`` the first time, and
    ``(None, first_gid)`` when it had been redeemed before (the caller revokes ``first_gid``)."""
    if len(code) > 128:
        raise InvalidGrant("the code is invalid or has expired")
    ttl = ctx.settings.code_tombstone_seconds
    previous = await ctx.store.claim(_key(ctx, code), gid.encode(), ttl)
    if previous is None:
        raise InvalidGrant("the code is invalid or has expired")
    for mark in (CLAIMED, REPLAYED):
        if previous.startswith(mark):
            return None, previous[len(mark) :].decode()
    data = json.loads(previous)
    grant = CodeGrant(
        client_id=data["client_id"],
        redirect_uri=data["redirect_uri"],
        scope=tuple(data["scope"]),
        nonce=data["nonce"],
        code_challenge=data["code_challenge"],
        auth=Authentication.from_dict(data),
        expires_at=datetime.fromtimestamp(data["expires_at"], UTC),
        resource=data.get("resource"),
        acr=data.get("acr"),
        dpop_jkt=data.get("dpop_jkt"),
        stored=previous,
    )
    if ctx.clock.now() >= grant.expires_at:
        raise InvalidGrant("the code is invalid or has expired")
    return grant, None


async def release_code(ctx: OidcContext, code: str, gid: str, found: CodeGrant) -> None:
    """Give back a code redeemed for ``gid`` that issued nothing because the client, once its
    current registration was read, failed authentication (``service.oidc.token``): as before
    that request, until the code's own expiry. Not once a replay was recorded: then it stays
    used."""
    left = (found.expires_at - ctx.clock.now()).total_seconds()
    if left > 0:
        await ctx.store.release(_key(ctx, code), gid.encode(), found.stored, math.ceil(left))
