"""Verifying what a client signed: client assertions, request objects, DPoP proofs (RFC 7515,
RFC 7519). Only asymmetric algorithms are accepted, never ``none`` nor an HMAC one (RFC 8725
3.1: the algorithm comes from the server's list, not from the token); a client held to the
FAPI 2.0 profile uses PS256, ES256 or Ed25519 only (FAPI 2.0 Security Profile 5.4.1)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError

from service.codec import b64url_decode
from service.db.models import OAuthClient
from service.oidc.assurance.jwks import PublicKey

FAPI_ALGORITHMS = ("PS256", "ES256", "EdDSA", "Ed25519")
ASYMMETRIC = ("RS256", *FAPI_ALGORITHMS)
MAX_JWT = 16 * 1024


class BadSignature(Exception):
    """Malformed, signed with an algorithm not accepted, or by none of the keys."""


def algorithms_for(client: OAuthClient) -> tuple[str, ...]:
    return FAPI_ALGORITHMS if client.profile == "fapi2" else ASYMMETRIC


def check_typ(header: dict[str, Any], accepted: set[str]) -> None:
    """Explicit typing (RFC 8725 3.11): a ``typ`` that names another kind of JWT signed with the
    same key is refused; absent is accepted. Compared without case and without the
    ``application/`` prefix (RFC 7515 4.1.9); ``accepted`` is lower case."""
    typ = header.get("typ")
    if typ is None:
        return
    bare = typ.lower().removeprefix("application/") if isinstance(typ, str) else None
    if bare not in accepted:
        raise BadSignature(f"typ {str(typ)[:40]!r} is not accepted here")


def header_of(token: str) -> dict[str, Any]:
    """The protected header of a compact JWS, read before anything is verified."""
    if len(token) > MAX_JWT or token.count(".") != 2:
        raise BadSignature("not a compact JWS")
    try:
        header = json.loads(b64url_decode(token.partition(".")[0]))
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadSignature("the JWS header is not base64url JSON") from exc
    if not isinstance(header, dict):
        raise BadSignature("the JWS header is not a JSON object")
    return header


def verify(
    token: str, keys: Sequence[PublicKey], algorithms: Sequence[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(header, claims)`` of a JWT signed by one of ``keys`` with one of ``algorithms``."""
    header = header_of(token)
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in algorithms:
        raise BadSignature(f"alg {str(alg)[:20]!r} is not accepted here: {' '.join(algorithms)}")
    for key in keys:
        try:
            decoded = jwt.decode(token, key, algorithms=[alg])
        except (JoseError, ValueError, TypeError):
            continue
        return header, dict(decoded.claims)
    raise BadSignature("the signature does not verify with the client's keys")
