"""Pushed Authorization Requests (RFC 9126), the first piece of FAPI 2.0 (issue 17).

An app posts its authorization request to ``/par`` over the back channel, authenticated like
at the token endpoint. Sesame checks it with the same ``CHECKS`` as ``/authorize`` (errors
answered in JSON, 2.3), keeps it for ``PAR_SECONDS`` under a random ``request_uri``, and
answers 201 with that URI and ``expires_in`` (2.2). The browser then goes to ``/authorize``
with only ``client_id`` and ``request_uri``: the pushed request replaces the query whole
(4), once (the URI is taken from the store atomically), and only for the client that pushed
it. A client registered with ``require_pushed_authorization_requests``, or every client
under ``SESAME_REQUIRE_PAR``, may not send its request any other way (``checks.par``). A push
with a DPoP proof binds the code to the proof's key (RFC 9449 10.1)."""

from __future__ import annotations

import json
from collections.abc import Iterable

from service.keys.keyed import new_token
from service.oidc.assurance import dpop, request_object
from service.oidc.client_auth import authenticate_client, credentials_of
from service.oidc.context import OidcContext
from service.oidc.errors import ErrorRedirect, InvalidRequest, InvalidRequestUri
from service.oidc.params import single_values
from service.oidc.presented import Presented

REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"
PAR_SECONDS = 60
# Client authentication is not part of the authorization request that is kept.
AUTHENTICATION = {"client_secret", "client_assertion", "client_assertion_type"}


class Created(dict[str, object]):
    """A back-channel answer with status 201 (RFC 9126 2.2)."""


def _key(ctx: OidcContext, token: str) -> str:
    return "par:" + ctx.keys.hash_hex("par-request-uri", token)


async def push(ctx: OidcContext, pairs: Iterable[tuple[str, str]], presented: Presented) -> Created:
    pairs = list(pairs)
    params, _ = single_values(pairs)
    proof = await dpop.at_server(ctx, presented)  # before client authentication
    client = await authenticate_client(ctx, credentials_of(params, presented))
    if "request_uri" in params:
        raise InvalidRequest("request_uri must not be pushed (RFC 9126 2.1)")
    kept = [(k, v) for k, v in pairs if k not in AUTHENTICATION and k != "client_id"]
    kept.append(("client_id", client.client_id))
    # RFC 9126 3: a signed request object may be pushed; what is kept is its parameters.
    kept = await request_object.unpacked(ctx, kept)
    # Imported here: authorize imports this module for /authorize's side.
    from service.oidc.authorize import validate_authorization_request

    try:
        request = await validate_authorization_request(
            ctx, kept, pushed=True, proof_jkt=proof.jkt if proof else None
        )
    except ErrorRedirect as exc:  # 2.3: the error is the answer, never a redirect
        raise exc.cause from exc
    if request.dpop_jkt is not None and "dpop_jkt" not in params:
        # RFC 9449 10.1: pushed with a proof, the code is bound to the proof's key.
        kept.append(("dpop_jkt", request.dpop_jkt))
    token = new_token()
    expires = ctx.clock.now().timestamp() + PAR_SECONDS
    body = json.dumps({"client_id": client.client_id, "pairs": kept, "expires": expires}).encode()
    await ctx.store.put(_key(ctx, token), body, PAR_SECONDS)
    return Created({"request_uri": REQUEST_URI_PREFIX + token, "expires_in": PAR_SECONDS})


async def pushed_request(
    ctx: OidcContext, pairs: list[tuple[str, str]]
) -> list[tuple[str, str]] | None:
    """At /authorize: the pushed request a ``request_uri`` names, taken (once), or None when
    the request names none of /par's."""
    params, _ = single_values(pairs)
    uri = params.get("request_uri")
    if uri is None or not uri.startswith(REQUEST_URI_PREFIX):
        # Not PAR's: a request object by reference (OIDC Core 6.2), which the checks refuse
        # with request_uri_not_supported.
        return None
    if len(uri) > 200:
        raise InvalidRequestUri("request_uri is not one Sesame issued")
    raw = await ctx.store.take(_key(ctx, uri.removeprefix(REQUEST_URI_PREFIX)))
    if raw is None:
        raise InvalidRequestUri("request_uri was used already, or has expired")
    stored = json.loads(raw)
    # Expiry read from what was stored (the store's own TTL only cleans up).
    if ctx.clock.now().timestamp() >= stored["expires"]:
        raise InvalidRequestUri("request_uri has expired")
    if params.get("client_id") != stored["client_id"]:
        raise InvalidRequestUri("request_uri was pushed by another client")
    return [(k, v) for k, v in stored["pairs"]]
