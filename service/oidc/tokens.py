"""Minting tokens.

* ID token (OIDC Core 2, 3.1.3.6): iss, sub, aud, exp, iat, auth_time, nonce (when sent), amr,
  sid, at_hash, plus the claims of the granted scopes; signed with the client's registered
  algorithm (RS256 unless it chose ES256 or EdDSA).
* Access token: a JWT per RFC 9068 (``typ: at+jwt``), always RS256 (the algorithm every resource
  server supports), audience Sesame itself, naming the grant (``gid``) it belongs to. Resource
  servers can check it offline against JWKS; Sesame's own endpoints (userinfo, introspection)
  also check that the grant still stands, so revocation, sign-out and disabling a user take
  effect there at once.
* Refresh token: ``<lookup>.<secret>``, opaque; only its keyed hash is stored.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any

from service.codec import b64url_encode
from service.db.models import OAuthClient, User
from service.keys.keyed import new_token
from service.oidc.assurance.acr import acr_of
from service.oidc.claims import user_claims
from service.oidc.context import OidcContext

ACCESS_TOKEN_ALG = "RS256"  # noqa: S105 (an algorithm name, not a secret)
ACCESS_TOKEN_TYP = "at+jwt"  # noqa: S105


def at_hash(access_token: str, alg: str) -> str:
    """OIDC Core 3.1.3.6: the left half of the hash of the token, with the hash of the ID
    token's algorithm (SHA-512 for EdDSA over Ed25519)."""
    digest = (hashlib.sha512 if alg == "EdDSA" else hashlib.sha256)(access_token.encode()).digest()
    return b64url_encode(digest[: len(digest) // 2])


def new_refresh_token(ctx: OidcContext) -> tuple[str, str, bytes]:
    """``(token, lookup, keyed hash)``; the lookup finds the grant, the hash proves the token."""
    lookup = secrets.token_urlsafe(16)
    token = f"{lookup}.{new_token()}"
    return token, lookup, refresh_hash(ctx, token)


def refresh_hash(ctx: OidcContext, token: str) -> bytes:
    return ctx.keys.hash("refresh-token", token)


async def access_token(
    ctx: OidcContext,
    *,
    client_id: str,
    subject: str,
    scope: str,
    gid: str,
    now: datetime,
    audience: str | None = None,
    roles: list[str] | None = None,
    jkt: str | None = None,
) -> str:
    """RFC 9068 2.2: ``aud`` is the API the token is for (RFC 8707), else Sesame itself;
    2.2.3.1: ``roles``, the person's roles at that API (``service.oidc.roles``); RFC 9449 6:
    ``cnf.jkt``, the thumbprint of the DPoP key it is bound to."""
    iat = int(now.timestamp())
    claims = {
        "iss": ctx.settings.issuer,
        "sub": subject,
        "aud": audience or ctx.settings.issuer,
        "client_id": client_id,
        "scope": scope,
        "iat": iat,
        "exp": iat + ctx.settings.access_token_seconds,
        "jti": new_token(16),
        "gid": gid,
    }
    if roles is not None:
        claims["roles"] = roles
    if jkt is not None:
        claims["cnf"] = {"jkt": jkt}
    return await ctx.signer.sign(claims, alg=ACCESS_TOKEN_ALG, typ=ACCESS_TOKEN_TYP)


async def id_token(
    ctx: OidcContext,
    *,
    client: OAuthClient,
    user: User,
    scope: tuple[str, ...],
    nonce: str | None,
    auth_time: datetime,
    amr: tuple[str, ...],
    sid: str,
    access: str,
    now: datetime,
    groups: tuple[str, ...] = (),
    acr: str | None = None,
) -> str:
    iat = int(now.timestamp())
    claims: dict[str, Any] = {
        **user_claims(user, scope, groups),
        "iss": ctx.settings.issuer,
        "aud": client.client_id,
        "iat": iat,
        "exp": iat + ctx.settings.id_token_seconds,
        "auth_time": int(auth_time.timestamp()),
        "amr": list(amr),
        # OIDC Core 2: the access level the way of signing in reached (assurance.acr).
        "acr": acr or acr_of(amr),
        "sid": sid,
        "at_hash": at_hash(access, client.id_token_alg),
    }
    if nonce is not None:
        claims["nonce"] = nonce
    return await ctx.signer.sign(claims, alg=client.id_token_alg)
