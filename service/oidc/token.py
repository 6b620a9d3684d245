"""The token endpoint (RFC 6749 section 3.2, OIDC Core 3.1.3): authenticate the client, check
that it registered the grant type, and hand the request to that grant's handler.

The grant types are the registry in ``service.oidc.grants``; client authentication is the
registry in ``service.oidc.client_auth``. The client's row is one statement on the driver's
connection (``service.db.hot``); the grant's own round trips follow. A DPoP proof (RFC 9449 5),
when sent, is checked before the grant runs, and its key binds what the grant issues; a client
registered for DPoP-bound tokens must send one.
"""

from __future__ import annotations

from collections.abc import Iterable

from service.metrics import TOKENS
from service.oidc.assurance import dpop
from service.oidc.client_auth import authenticate_client, credentials_of
from service.oidc.context import OidcContext
from service.oidc.errors import InvalidDpopProof, UnauthorizedClient, UnsupportedGrantType
from service.oidc.grants import GRANTS
from service.oidc.grants.base import Response, required
from service.oidc.params import form_params
from service.oidc.presented import Presented


async def handle_token_request(
    ctx: OidcContext, pairs: Iterable[tuple[str, str]], presented: Presented
) -> Response:
    params = form_params(pairs)
    grant_type = required(params, "grant_type")
    grant = GRANTS.get(grant_type)
    if grant is None:
        raise UnsupportedGrantType(f"grant_type {grant_type[:40]!r} is not supported")
    proof = await dpop.at_server(ctx, presented)  # before client authentication
    client = await authenticate_client(ctx, credentials_of(params, presented))
    if grant_type not in client.grant_types.split():
        raise UnauthorizedClient(f"this client is not registered for {grant_type}")
    if proof is None and client.dpop_bound:
        raise InvalidDpopProof("this client's tokens are DPoP-bound: send a DPoP proof")
    response = await grant.handler(ctx, client, params, proof)
    TOKENS.labels(grant_type).inc()
    return response
