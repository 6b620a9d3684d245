"""The token endpoint (RFC 6749 section 3.2, OIDC Core 3.1.3): authenticate the client, check
that it registered the grant type, and hand the request to that grant's handler.

The grant types are the registry in ``service.oidc.grants``; client authentication is the
registry in ``service.oidc.client_auth``. The client's row is one statement on the driver's
connection (``service.db.hot``), or none: the grants that confirm the row they are given
(``GrantType.confirms_client``) take it from the process's cache and make their own statements
conditional on its version, and a request found to have been decided on a stale row is decided
again on the current one (``StaleClient``). The grant's own round trips follow. A DPoP proof
(RFC 9449 5), when sent, is checked before the grant runs, and its key binds what the grant
issues; a client registered for DPoP-bound tokens must send one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from service.db.clients import StaleClient
from service.db.models import OAuthClient
from service.metrics import TOKENS
from service.oidc.assurance import dpop
from service.oidc.client_auth import authenticate_client, credentials_of
from service.oidc.context import OidcContext
from service.oidc.errors import (
    InvalidDpopProof,
    OAuthError,
    TemporarilyUnavailable,
    UnauthorizedClient,
    UnsupportedGrantType,
)
from service.oidc.grants import GRANTS
from service.oidc.grants.base import Response, required
from service.oidc.params import form_params
from service.oidc.presented import Presented

# A request decided on a client row that changed meanwhile is decided again (StaleClient): at
# most this many times, for a registration changing under every try.
STALE_TRIES = 3


async def handle_token_request(
    ctx: OidcContext, pairs: Iterable[tuple[str, str]], presented: Presented
) -> Response:
    params = form_params(pairs)
    grant_type = required(params, "grant_type")
    grant = GRANTS.get(grant_type)
    if grant is None:
        raise UnsupportedGrantType(f"grant_type {grant_type[:40]!r} is not supported")
    proof = await dpop.at_server(ctx, presented)  # before client authentication

    def accept(client: OAuthClient) -> None:
        if grant_type not in client.grant_types.split():
            raise UnauthorizedClient(f"this client is not registered for {grant_type}")
        if proof is None and client.dpop_bound:
            raise InvalidDpopProof("this client's tokens are DPoP-bound: send a DPoP proof")

    creds = credentials_of(params, presented)
    client = await authenticate_client(ctx, creds, cached=grant.confirms_client, accept=accept)

    async def run(client: OAuthClient) -> Response:
        return await grant.handler(ctx, client, params, proof)

    step: Callable[[OAuthClient], Awaitable[Response]] = run
    release: Callable[[], Awaitable[None]] | None = None
    for _ in range(STALE_TRIES):
        try:
            response = await step(client)
        except StaleClient as stale:
            # Nothing was written: decide again on the row as it is now, and give back what
            # the grant consumed (a code) if that row refuses the request.
            ctx.clients.drop(client.client_id)
            step, release = stale.resume or step, stale.release or release
            cached = grant.confirms_client
            try:
                client = await authenticate_client(ctx, creds, cached=cached, accept=accept)
            except OAuthError:
                if release is not None:
                    await release()
                raise
            continue
        TOKENS.labels(grant_type).inc()
        return response
    if release is not None:
        await release()
    raise TemporarilyUnavailable("the client's registration kept changing; try again")
