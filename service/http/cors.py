"""CORS for browser apps on the back-channel endpoints (plain ASGI; the rules are
``service.oidc.cors``).

* A preflight (``OPTIONS`` with ``Access-Control-Request-Method``) from an allowed origin for a
  method the endpoint takes: 204 with the allowed methods and headers, cached 10 minutes. From
  any other origin: 403 without CORS headers, so the browser stops there.
* Any other request with an ``Origin``: handled as usual; the answer carries
  ``Access-Control-Allow-Origin`` only for an allowed origin, and ``Vary: Origin`` always.
* Never ``Access-Control-Allow-Credentials``: cookies are not part of these calls.
"""

from __future__ import annotations

import logging

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.http.errors import is_outage
from service.http.observability import scope_header
from service.oidc import cors
from service.oidc.context import OidcContext

log = logging.getLogger("sesame.http")


class CorsMiddleware:
    def __init__(self, app: ASGIApp, oidc: OidcContext) -> None:
        self.app = app
        self.oidc = oidc

    async def _allowed(self, origin: str) -> bool:
        try:
            return await cors.origin_allowed(self.oidc, origin)
        except Exception as exc:
            if not is_outage(exc):
                raise
            log.warning("CORS origin check skipped, storage unavailable: %s", type(exc).__name__)
            return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        methods = (
            cors.CORS_ENDPOINTS.get(scope.get("path", "")) if scope["type"] == "http" else None
        )
        origin = scope_header(scope, b"origin") if methods else None
        if methods is None or origin is None:
            await self.app(scope, receive, send)
            return
        allowed = await self._allowed(origin)
        asked = scope_header(scope, b"access-control-request-method")
        if scope["method"] == "OPTIONS" and asked is not None:
            await self._preflight(send, origin, allowed and asked.upper() in methods, methods)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.add_vary_header("Origin")
                if allowed:
                    headers["Access-Control-Allow-Origin"] = origin
                    headers["Access-Control-Expose-Headers"] = ", ".join(cors.EXPOSED_HEADERS)
            await send(message)

        await self.app(scope, receive, send_with_cors)

    @staticmethod
    async def _preflight(send: Send, origin: str, allowed: bool, methods: tuple[str, ...]) -> None:
        headers = [(b"vary", b"Origin"), (b"content-length", b"0")]
        if allowed:
            headers += [
                (b"access-control-allow-origin", origin.encode()),
                (b"access-control-allow-methods", ", ".join(methods).encode()),
                (b"access-control-allow-headers", ", ".join(cors.ALLOWED_HEADERS).encode()),
                (b"access-control-max-age", str(cors.PREFLIGHT_MAX_AGE).encode()),
            ]
        status = 204 if allowed else 403
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
