"""The back-channel form POSTs served as plain ASGI: the registry ``BACK_CHANNEL``.

``/token``, ``/revoke``, ``/introspect`` and ``/par`` are client-authenticated
``application/x-www-form-urlencoded`` POSTs answered in JSON (RFC 6749 2.3, 3.2 and 5; RFC 7009
2; RFC 7662 2; RFC 9126 2). Apps call them, never people, and ``/token`` is the hottest path
Sesame has. ``BackChannelRoutes`` sits just inside ``InputGuard``, which has already read the
body, checked every pair against ``service.text`` and left the pairs in the scope's state, and
calls the endpoint's handler with them directly (``/device_authorization``, rate limited per
address in its route, stays a FastAPI route): no router scan, no dependency solving, no
second parse of the body. Everything outside it (the body cap, CORS, security headers, request
ids, the access log and metrics) applies as to any request, and client authentication failures
pass the same budget on both paths (``service.http.failure_gate``).

The FastAPI routes stay registered (``service.http.oidc``): they
document the endpoints in OpenAPI, answer other methods with 405 and ``Allow``, and serve a POST
whose body is not a form, which the same handler then refuses the usual way. Errors go through
the application's own exception handlers (``service.http.errors``), looked up the way
Starlette does, so an error reads the same on either path; anything without a handler goes on
to the server-error middleware (a 500, logged).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

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

# As Starlette keeps them: sync or async, taking the request and the exception.
ExceptionHandler = Callable[[Request, Any], Response | Awaitable[Response]]


def back_channel_response(body: dict[str, Any] | None) -> Response:
    """JSON, or an empty 200 (revocation), never cached (RFC 6749 5.1); 201 for a pushed
    authorization request (RFC 9126 2.2)."""
    if body is None:
        return Response(status_code=200, headers=NO_STORE)
    status = 201 if isinstance(body, par.Created) else 200
    return JSONResponse(body, status_code=status, headers=NO_STORE)


@dataclass(frozen=True)
class ServedRoute:
    """What the access log and the metrics read from ``scope["route"]``."""

    path: str


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


class BackChannelRoutes:
    def __init__(
        self,
        app: ASGIApp,
        oidc: OidcContext,
        handlers: Mapping[Any, ExceptionHandler],
        gate: FailureGate,
    ) -> None:
        self.app = app
        self.oidc = oidc
        self.handlers = handlers
        self.gate = gate
        self.routes = {path: ServedRoute(path) for path in BACK_CHANNEL}

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Not a coroutine of its own: every other request gets the next app's coroutine.
        if scope["type"] == "http" and scope["method"] == "POST":
            handle = BACK_CHANNEL.get(scope["path"])
            pairs = scope.get("state", {}).get(FORM_PAIRS)
            if handle is not None and pairs is not None:
                return self._serve(handle, pairs, scope, receive, send)
        return self.app(scope, receive, send)

    async def _serve(
        self,
        handle: BackChannel,
        pairs: list[tuple[str, str]],
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        scope["route"] = self.routes[scope["path"]]
        shown = presented(scope)
        address = (scope.get("client") or ("", 0))[0]
        try:
            body = await self.gate.guard(
                address,
                lambda: presented_client_id(pairs, shown.authorization),
                lambda: handle(self.oidc, pairs, shown),
            )
            response = back_channel_response(body)
        except Exception as exc:
            handler = self._handler_for(exc)
            if handler is None:
                raise
            answer = handler(Request(scope, receive), exc)
            response = await answer if inspect.isawaitable(answer) else answer
        await response(scope, receive, send)

    def _handler_for(self, exc: Exception) -> ExceptionHandler | None:
        for cls in type(exc).__mro__:
            if cls in self.handlers:
                return self.handlers[cls]
        return None
