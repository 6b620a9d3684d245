"""Request ids, the access log and request metrics (plain ASGI). The client address it logs
was already resolved behind trusted proxies (``service.app``, uvicorn's proxy-headers
middleware)."""

from __future__ import annotations

import itertools
import logging
import os
import re
import time

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service import audit
from service.metrics import LATENCY, REQUESTS, outcome

log = logging.getLogger("sesame.access")
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class RequestIds:
    """Ids for requests that came without one: 32 hex digits, as a UUID's, unique but not
    secret (they are echoed and logged): a random prefix for the process and a counter, so
    a request costs no random read. A forked child starts a prefix of its own."""

    def __init__(self) -> None:
        self.restart()

    def restart(self) -> None:
        self.prefix = os.urandom(8).hex()
        self.counter = itertools.count()

    def next(self) -> str:
        return f"{self.prefix}{next(self.counter):016x}"


REQUEST_IDS = RequestIds()
os.register_at_fork(after_in_child=REQUEST_IDS.restart)


def scope_header(scope: Scope, name: bytes) -> str | None:
    """A request header of a plain ASGI scope; repeated values joined by commas (RFC 9110 5.3)."""
    values = [v.decode("latin-1") for k, v in scope.get("headers", []) if k == name]
    return ",".join(values) if values else None


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = scope_header(scope, b"x-request-id")
        request_id = given if given and REQUEST_ID.fullmatch(given) else REQUEST_IDS.next()
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        status = 500
        started = time.perf_counter()
        bound = audit.bind_request(
            (scope.get("client") or ("", 0))[0], scope_header(scope, b"user-agent") or ""
        )

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append("X-Request-ID", request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            REQUESTS.labels(scope["method"], route, str(status)).inc()
            LATENCY.labels(route, outcome(status)).observe(elapsed)
            fields = {
                "request_id": request_id,
                "method": scope["method"],
                "route": route,
                "status": status,
                "duration_ms": round(elapsed * 1000, 2),
                "client_ip": (scope.get("client") or ("", 0))[0],
            }
            for key in ("user_id", "client_id"):
                if key in state:
                    fields[key] = state[key]
            log.info("%s %s %s", scope["method"], route, status, extra=fields)
            audit.unbind_request(bound)
