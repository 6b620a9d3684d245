"""Signed authorization requests (RFC 9101, JAR), by value: ``request`` at ``/authorize`` or in
the body pushed to ``/par`` (RFC 9126 3). By reference only through PAR (a ``request_uri`` of
another kind stays ``request_uri_not_supported``).

The JWT is signed by one of the client's registered keys with an accepted asymmetric algorithm
(``signed``; never ``none``, never HMAC), typed ``oauth-authz-req+jwt`` or ``JWT`` or not at all
(another kind of JWT of the client's is refused). Its ``iss`` and ``client_id`` are the client, its
``aud`` names Sesame's issuer, ``exp`` is required and at most ``MAX_LIFETIME`` away, ``nbf``
has passed. Then only its claims make the request (RFC 9101 6.3: the query's other parameters
are ignored), the ``client_id`` of the query being the same. Errors are shown to the person
(``invalid_request_object``): the redirect URI inside has not been checked yet.
"""

from __future__ import annotations

import json

from service.db import clients as client_rows
from service.db import hot
from service.oidc.assurance.jwks import KeysUnavailable, client_keys
from service.oidc.assurance.signed import (
    BadSignature,
    algorithms_for,
    check_typ,
    header_of,
    verify,
)
from service.oidc.context import OidcContext
from service.oidc.errors import BadAuthorizationRequest, OAuthError

MAX_LIFETIME = 3600
# RFC 9101 4's media type, and the generic JWT most clients send.
ACCEPTED_TYPES = {"oauth-authz-req+jwt", "jwt"}
LEEWAY = 30


class InvalidRequestObject(OAuthError):
    """RFC 9101 6.3 / OIDC Core 3.1.2.6: the request object is malformed or badly signed."""

    error = "invalid_request_object"
    redirectable = False


async def unpacked(ctx: OidcContext, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The request's parameters: the signed request object's when it carries one."""
    found = [value for name, value in pairs if name == "request"]
    if not found:
        return pairs
    client_ids = [value for name, value in pairs if name == "client_id"]
    if len(found) > 1 or len(client_ids) != 1:
        raise BadAuthorizationRequest("send one request object and one client_id")
    client_id = client_ids[0]
    async with hot.connect(ctx.db) as conn:
        client = await client_rows.find(conn, client_id) if len(client_id) <= 64 else None
    if client is None:
        raise BadAuthorizationRequest("unknown client")
    try:
        header = header_of(found[0])
        check_typ(header, ACCEPTED_TYPES)  # not a client assertion or DPoP proof of the client
        kid = header.get("kid")
        keys = await client_keys(ctx, client, kid if isinstance(kid, str) else None)
        _, claims = verify(found[0], keys, algorithms_for(client))
    except (BadSignature, KeysUnavailable) as exc:
        raise InvalidRequestObject(f"the request object is refused: {exc}") from exc
    _check_claims(ctx, claims, client_id)
    return [("client_id", client_id), *_as_pairs(claims)]


def _check_claims(ctx: OidcContext, claims: dict[str, object], client_id: str) -> None:
    if claims.get("iss") != client_id or claims.get("client_id") != client_id:
        raise InvalidRequestObject("the request object's iss and client_id must be the client")
    audience = claims.get("aud")
    if ctx.settings.issuer not in (audience if isinstance(audience, list) else [audience]):
        raise InvalidRequestObject("the request object's aud must be Sesame's issuer")
    now = ctx.clock.now().timestamp()
    exp, nbf = claims.get("exp"), claims.get("nbf")
    if not isinstance(exp, int | float) or exp <= now - LEEWAY or exp > now + MAX_LIFETIME:
        raise InvalidRequestObject("the request object has expired, has no exp, or lives long")
    if nbf is not None and (not isinstance(nbf, int | float) or nbf > now + LEEWAY):
        raise InvalidRequestObject("the request object is not valid yet")
    if "request" in claims or "request_uri" in claims:
        raise InvalidRequestObject("a request object may not hold another")


# Claims of the JWT that are about the object itself, not authorization parameters.
_ENVELOPE = {"iss", "aud", "exp", "nbf", "iat", "jti", "client_id"}


def _as_pairs(claims: dict[str, object]) -> list[tuple[str, str]]:
    """Parameters as the query would carry them: ``max_age`` a number, ``claims`` an object
    (OIDC Core 6.1), every other a string."""
    pairs = []
    for name, value in claims.items():
        if name in _ENVELOPE:
            continue
        if isinstance(value, str):
            pairs.append((name, value))
        elif name == "max_age" and isinstance(value, int) and not isinstance(value, bool):
            pairs.append((name, str(value)))
        elif name == "claims" and isinstance(value, dict):
            pairs.append((name, json.dumps(value)))
        else:
            raise InvalidRequestObject(f"the request object's {name[:40]} is not a string")
    return pairs
