"""``private_key_jwt`` client authentication (RFC 7523 2.2 and 3, OIDC Core 9): the client
signs a short JWT with its own key and sends it as ``client_assertion``.

* ``client_assertion_type`` is ``urn:ietf:params:oauth:client-assertion-type:jwt-bearer``;
* ``iss`` and ``sub`` are the client id (and ``client_id``, when sent, the same);
* ``aud`` is Sesame's issuer identifier and nothing else (RFC 10070, which updates RFC 7523 3
  after the audience injection attack: the token endpoint's URL, once allowed, is refused, and
  so is an array naming anything besides the issuer), as FAPI 2.0 Security Profile 5.3.2.1
  asks clients to send it;
* ``typ``, when present, is ``client-authentication+jwt`` (RFC 10070's explicit type) or the
  generic ``JWT``: another kind of JWT signed with the client's key (a DPoP proof, a request
  object) is not taken for a client assertion (RFC 8725 3.11);
* ``exp`` is required, in the future and at most ``MAX_LIFETIME`` away; ``nbf``, when present,
  has passed;
* ``jti`` is required and single use: it is remembered (atomically, in the shared store) until
  the assertion expires, and a second use is refused;
* signed with one of the client's registered keys (``jwks``) and an asymmetric algorithm
  (``signed``): an HMAC-signed assertion (``client_secret_jwt``) is not accepted, since Sesame
  keeps no client secret in a form it could verify one with.

Every refusal is ``invalid_client`` (RFC 6749 5.2).
"""

from __future__ import annotations

import json

from service.codec import b64url_decode
from service.db.models import OAuthClient
from service.oidc.assurance.jwks import KeysUnavailable, client_keys
from service.oidc.assurance.signed import (
    BadSignature,
    algorithms_for,
    check_typ,
    header_of,
    verify,
)
from service.oidc.context import OidcContext
from service.oidc.errors import InvalidClient

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# RFC 10070 4's media type, and the generic JWT of clients written before it.
ACCEPTED_TYPES = {"client-authentication+jwt", "jwt"}
MAX_LIFETIME = 300
LEEWAY = 30


def claimed_client_id(assertion: str) -> str:
    """The ``sub`` an assertion names, read unverified to find the client whose keys then
    verify it."""
    try:
        header_of(assertion)
        claims = json.loads(b64url_decode(assertion.split(".")[1]))
        sub = claims.get("sub") if isinstance(claims, dict) else None
    except (BadSignature, ValueError, UnicodeDecodeError) as exc:
        raise InvalidClient("client_assertion is not a JWT") from exc
    if not isinstance(sub, str) or not 0 < len(sub) <= 64:
        raise InvalidClient("client_assertion names no client (sub)")
    return sub


def _sole_audience(audience: object, issuer: str) -> bool:
    """RFC 10070: the issuer identifier as the only audience (a string; a one-element array
    says the same)."""
    if isinstance(audience, list) and len(audience) == 1:
        audience = audience[0]
    return audience == issuer


async def verify_assertion(ctx: OidcContext, client: OAuthClient, assertion: str) -> None:
    try:
        header = header_of(assertion)
        check_typ(header, ACCEPTED_TYPES)
        kid = header.get("kid")
        keys = await client_keys(ctx, client, kid if isinstance(kid, str) else None)
        _, claims = verify(assertion, keys, algorithms_for(client))
    except (BadSignature, KeysUnavailable) as exc:
        raise InvalidClient(f"client_assertion refused: {exc}") from exc
    if claims.get("iss") != client.client_id or claims.get("sub") != client.client_id:
        raise InvalidClient("client_assertion: iss and sub must be the client id")
    if not _sole_audience(claims.get("aud"), ctx.settings.issuer):
        raise InvalidClient(f"client_assertion: aud must be {ctx.settings.issuer} alone")
    now = ctx.clock.now().timestamp()
    exp, nbf, jti = claims.get("exp"), claims.get("nbf"), claims.get("jti")
    if not isinstance(exp, int | float) or exp <= now - LEEWAY:
        raise InvalidClient("client_assertion has expired (or has no exp)")
    if exp > now + MAX_LIFETIME:
        raise InvalidClient(f"client_assertion lives more than {MAX_LIFETIME} seconds")
    if nbf is not None and (not isinstance(nbf, int | float) or nbf > now + LEEWAY):
        raise InvalidClient("client_assertion is not valid yet")
    if not isinstance(jti, str) or not 0 < len(jti) <= 200:
        raise InvalidClient("client_assertion needs a jti")
    key = "assertion-jti:" + ctx.keys.hash_hex("assertion-jti", f"{client.client_id} {jti}")
    if await ctx.store.incr(key, int(exp - now) + LEEWAY + 1) != 1:
        raise InvalidClient("client_assertion was used before (jti)")
