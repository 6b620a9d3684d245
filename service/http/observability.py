"""Client address behind proxies, request ids, the access log and request metrics (plain ASGI).

``X-Forwarded-For`` / ``X-Forwarded-Proto`` are believed only when the direct peer is in
``SESAME_TRUSTED_PROXIES``; then the client is the right-most address that is not itself a
trusted proxy (the left part of the header is whatever the client sent). Links and origins never
come from these headers either way: they come from ``SESAME_ISSUER``.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import time
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service import audit
from service.metrics import LATENCY, REQUESTS

log = logging.getLogger("sesame.access")
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _header(scope: Scope, name: bytes) -> str | None:
    values = [v.decode("latin-1") for k, v in scope.get("headers", []) if k == name]
    return ",".join(values) if values else None


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp, trusted_proxies: list[str]) -> None:
        self.app = app
        self.trusted: list[Network] = [
            ipaddress.ip_network(p, strict=False) for p in trusted_proxies
        ]

    def _is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address.strip())
        except ValueError:
            return False
        return any(ip in net for net in self.trusted)

    def _resolve_client(self, scope: Scope) -> None:
        peer = scope.get("client")
        if not self.trusted or not peer or not self._is_trusted(peer[0]):
            return
        forwarded = _header(scope, b"x-forwarded-for")
        if forwarded:
            hops = [h.strip() for h in forwarded.split(",") if h.strip()]
            client = next((h for h in reversed(hops) if not self._is_trusted(h)), None)
            if client is not None:
                try:
                    ipaddress.ip_address(client)
                    scope["client"] = (client, 0)
                except ValueError:
                    pass
        proto = _header(scope, b"x-forwarded-proto")
        if proto:
            last = proto.split(",")[-1].strip().lower()
            if last in {"http", "https"}:
                scope["scheme"] = last

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self._resolve_client(scope)
        given = _header(scope, b"x-request-id")
        request_id = given if given and REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        status = 500
        started = time.perf_counter()
        bound = audit.bind_request(
            (scope.get("client") or ("", 0))[0], _header(scope, b"user-agent") or ""
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
            LATENCY.labels(route).observe(elapsed)
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
