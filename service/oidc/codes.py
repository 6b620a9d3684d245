"""Authorization codes (RFC 6749 4.1.2, RFC 9700 4.2.1), in the ephemeral store.

A code is 256 random bits; the store key is its keyed hash. It lives ``code_seconds`` (at most
60), checked against the stored ``expires_at``, and is bound to the client, the redirect URI, the
PKCE challenge and the nonce. Redeeming it is one atomic ``swap``: the first redemption replaces
the code with a "used by grant G" marker and gets the code's data; a later one finds the marker,
and the tokens issued for G are revoked (RFC 6749 4.1.2: a code used twice means it leaked).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from service.keys.keyed import new_token
from service.oidc.context import OidcContext
from service.oidc.errors import InvalidGrant
from service.oidc.model import Authentication, AuthorizationRequest

USED = b"used:"


@dataclass(frozen=True)
class CodeGrant:
    """What a redeemed code carries into the token response."""

    client_id: str
    redirect_uri: str
    scope: tuple[str, ...]
    nonce: str | None
    code_challenge: str | None
    user_id: int
    subject: str
    auth_time: datetime
    amr: tuple[str, ...]
    sid: str
    expires_at: datetime


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
        "user_id": auth.user_id,
        "subject": auth.subject,
        "auth_time": auth.auth_time.timestamp(),
        "amr": list(auth.amr),
        "sid": auth.sid,
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
    # The marker outlives the code itself so that a late replay is still recognised.
    ttl = max(ctx.settings.code_seconds, ctx.settings.access_token_seconds)
    previous = await ctx.store.swap(_key(ctx, code), USED + gid.encode(), ttl)
    if previous is None:
        raise InvalidGrant("the code is invalid or has expired")
    if previous.startswith(USED):
        return None, previous[len(USED) :].decode()
    data = json.loads(previous)
    grant = CodeGrant(
        client_id=data["client_id"],
        redirect_uri=data["redirect_uri"],
        scope=tuple(data["scope"]),
        nonce=data["nonce"],
        code_challenge=data["code_challenge"],
        user_id=data["user_id"],
        subject=data["subject"],
        auth_time=datetime.fromtimestamp(data["auth_time"], UTC),
        amr=tuple(data["amr"]),
        sid=data["sid"],
        expires_at=datetime.fromtimestamp(data["expires_at"], UTC),
    )
    if ctx.clock.now() >= grant.expires_at:
        raise InvalidGrant("the code is invalid or has expired")
    return grant, None
