"""Routes answered before FastAPI's router: one middleware, ``DirectRoutes``, and a registry of
``Direct`` entries by path, given by each product area (the back channel's form POSTs in
``service.http.back_channel``, the passkey ceremonies' JSON POSTs in
``service.http.ceremonies``).

Why: on the hottest paths FastAPI's router scan, dependency solving and body validation cost
more than the work itself (py-spy, 4 Dec: a quarter of a passkey sign-in's server time went
to routing and dependencies). A ``Direct`` entry answers only the requests it can answer
exactly as its FastAPI route would (``prepare`` returns None for any other: a body that is not
the expected form or JSON, a body the route's model refuses), and those go on to the FastAPI
route, which stays registered (OpenAPI, 405 with ``Allow``, its own error for a malformed body).

This sits inside ``InputGuard``, which has read the body, checked every text input and left
the parsed pairs or JSON in the scope's state; everything outside it (the body cap, CORS,
security headers, request ids, the access log and metrics) applies as to any request. Errors go
through the application's own exception handlers (``service.http.errors``), looked up the way
Starlette does, so an error reads the same on either path; anything without a handler goes on
to the server-error middleware (a 500, logged).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

# An answer ready to run: what ``Direct.prepare`` returns for a request it serves.
Prepared = Callable[[], Awaitable[Response]]

# As Starlette keeps them: sync or async, taking the request and the exception.
ExceptionHandler = Callable[[Request, Any], Response | Awaitable[Response]]


class Direct(Protocol):
    def prepare(self, scope: Scope, receive: Receive) -> Prepared | None:
        """The answer to this POST, or None to leave it to the FastAPI route. Must not await:
        deciding is a look at what ``InputGuard`` left in the scope."""


@dataclass(frozen=True)
class ServedRoute:
    """What the access log and the metrics read from ``scope["route"]``."""

    path: str


class DirectRoutes:
    def __init__(
        self,
        app: ASGIApp,
        routes: Mapping[str, Direct],
        handlers: Mapping[Any, ExceptionHandler],
    ) -> None:
        self.app = app
        self.routes = dict(routes)
        self.handlers = handlers
        self.served = {path: ServedRoute(path) for path in routes}

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Not a coroutine of its own: every other request gets the next app's coroutine.
        if scope["type"] == "http" and scope["method"] == "POST":
            route = self.routes.get(scope["path"])
            prepared = route.prepare(scope, receive) if route is not None else None
            if prepared is not None:
                return self._serve(prepared, scope, receive, send)
        return self.app(scope, receive, send)

    async def _serve(self, prepared: Prepared, scope: Scope, receive: Receive, send: Send) -> None:
        scope["route"] = self.served[scope["path"]]
        try:
            response = await prepared()
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
