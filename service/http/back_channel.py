"""The back-channel form POSTs answered before routing: the registry ``BACK_CHANNEL``.

``/token``, ``/revoke``, ``/introspect`` and ``/par`` are client-authenticated
``application/x-www-form-urlencoded`` POSTs answered in JSON (RFC 6749 2.3, 3.2 and 5; RFC 7009
2; RFC 7662 2; RFC 9126 2). Apps call them, never people, and ``/token`` is the hottest path
Sesame has. ``routes()`` gives them to ``service.http.direct.DirectRoutes``, which calls the
endpoint's handler with the pairs ``InputGuard`` already checked (``/device_authorization``,
rate limited per address in its route, stays a FastAPI route): no router scan, no dependency
solving, no second parse of the body. Client authentication failures pass the same budget on
both paths (``service.http.failure_gate``).

The FastAPI routes stay registered (``service.http.oidc``): they document the endpoints in
OpenAPI, answer other methods with 405 and ``Allow``, and serve a POST whose body is not a
form, which the same handler then refuses the usual way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope

from service.http.direct import Direct, Prepared
from service.http.failure_gate import FailureGate, presented_client_id
from service.http.inputs import FORM_PAIRS
from service.oidc import introspection, par, revocation, token
from service.oidc.context import OidcContext
from service.oidc.presented import Presented

BackChannel = Callable[
    [OidcContext, Iterable[tuple[str, str]], Presented], Awaitable[dict[str, Any] | None]
]

BACK_CHANNEL: dict[str, BackChannel] = {
    "/token": token.handle_token_request,
    "/revoke": revocation.revoke,
    "/introspect": introspection.introspect,
    "/par": par.push,
}

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def back_channel_response(body: dict[str, Any] | None) -> Response:
    """JSON, or an empty 200 (revocation), never cached (RFC 6749 5.1); 201 for a pushed
    authorization request (RFC 9126 2.2)."""
    if body is None:
        return Response(status_code=200, headers=NO_STORE)
    status = 201 if isinstance(body, par.Created) else 200
    return JSONResponse(body, status_code=status, headers=NO_STORE)


def presented(scope: Scope) -> Presented:
    """The Authorization header and every DPoP header of a request, and its path."""
    authorization = None
    dpop = []
    for key, value in scope["headers"]:
        if key == b"authorization":
            authorization = bytes(value).decode("latin-1")
        elif key == b"dpop":
            dpop.append(bytes(value).decode("latin-1"))
    return Presented(authorization, tuple(dpop), scope["path"])


class BackChannelRoute:
    """One back-channel endpoint as a ``Direct`` route: a form POST only."""

    def __init__(self, handle: BackChannel, oidc: OidcContext, gate: FailureGate) -> None:
        self.handle = handle
        self.oidc = oidc
        self.gate = gate

    def prepare(self, scope: Scope, receive: Receive) -> Prepared | None:
        pairs = scope.get("state", {}).get(FORM_PAIRS)
        if pairs is None:
            return None
        return lambda: self._answer(pairs, scope)

    async def _answer(self, pairs: list[tuple[str, str]], scope: Scope) -> Response:
        shown = presented(scope)
        address = (scope.get("client") or ("", 0))[0]
        body = await self.gate.guard(
            address,
            lambda: presented_client_id(pairs, shown.authorization),
            lambda: self.handle(self.oidc, pairs, shown),
        )
        return back_channel_response(body)


def routes(oidc: OidcContext, gate: FailureGate) -> dict[str, Direct]:
    return {path: BackChannelRoute(handle, oidc, gate) for path, handle in BACK_CHANNEL.items()}
