"""Security headers on every response and the browser-id cookie (plain ASGI, no per-request task).

The browser id is a random value in an HttpOnly cookie that identifies this browser (not a
user): ceremonies are bound to it and CSRF tokens are derived from it. Only Sesame issues it: the
cookie carries the id with an HMAC under the server key, and a value without a valid one (planted
by a sibling subdomain or on a shared computer) is replaced, never adopted. A route that signs
someone in rotates it (``rotate_browser_id``), like the session, so an id known before the
sign-in is worth nothing after it.
"""

from __future__ import annotations

from http.cookies import SimpleCookie

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.http.cookies import CookieNames
from service.keys.keyed import Keyring, new_token

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
BROWSER_COOKIE_SECONDS = 400 * 24 * 3600
# The largest honest body is a WebAuthn registration with an attestation certificate chain,
# a few KiB. Bodies must say their length (browsers always do), so the cap holds before reading.
MAX_BODY_BYTES = 64 * 1024
BROWSER_ID_PURPOSE = "browser-id"


def browser_of(scope_state: dict[str, object]) -> str:
    """This browser's id: the one its cookie carries, or a new one, which the middleware then
    sets as the cookie on this response. Made only when a page, form or ceremony asks for it:
    an app's call to ``/token`` or ``/jwks.json`` costs no random read and gets no cookie."""
    found = scope_state.get("browser_id")
    if found is None:
        found = scope_state["browser_id"] = new_token()
        scope_state["browser_id_new"] = True
    return str(found)


def rotate_browser_id(scope_state: dict[str, object]) -> tuple[str, str]:
    """A new browser id for this browser from this response on; returns (old, new). The
    middleware sets the cookie."""
    old = browser_of(scope_state)
    new = new_token()
    scope_state["browser_id_rotated"] = new
    return old, new


def body_refusal(scope: Scope) -> tuple[int, bytes] | None:
    if scope["method"] not in {"POST", "PUT", "PATCH", "DELETE"}:
        return None
    headers = dict(scope.get("headers", []))
    if b"transfer-encoding" in headers:
        return 411, b'{"error":"invalid_request","message":"Send a Content-Length."}'
    length = headers.get(b"content-length", b"0")
    if not length.isdigit() or int(length) > MAX_BODY_BYTES:
        return 413, b'{"error":"invalid_request","message":"The request body is too large."}'
    return None


def read_cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:
                return None
            if name in jar:
                return jar[name].value
    return None


class SecurityMiddleware:
    def __init__(self, app: ASGIApp, names: CookieNames, keys: Keyring) -> None:
        self.app = app
        self.names = names
        self.keys = keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = body_refusal(scope)
        if refusal is not None:
            status, body = refusal
            await send(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        signed = read_cookie(scope, self.names.browser)
        found = self.keys.unsign(BROWSER_ID_PURPOSE, signed) if signed else None
        state = scope.setdefault("state", {})
        if found is not None and len(found) == 43:
            state["browser_id"] = found  # otherwise made when asked for (``browser_of``)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", CSP)
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Referrer-Policy", "no-referrer")
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
                if self.names.secure:
                    headers.setdefault("Strict-Transport-Security", "max-age=63072000")
                if not scope["path"].startswith("/static/"):
                    headers.setdefault("Cache-Control", "no-store")
                issued = state.get("browser_id_rotated") or (
                    state["browser_id"] if state.get("browser_id_new") else None
                )
                if issued:
                    value = self.keys.sign(BROWSER_ID_PURPOSE, str(issued))
                    attrs = f"Path=/; Max-Age={BROWSER_COOKIE_SECONDS}; HttpOnly; SameSite=Lax"
                    if self.names.secure:
                        attrs += "; Secure"
                    headers.append("Set-Cookie", f"{self.names.browser}={value}; {attrs}")
            await send(message)

        await self.app(scope, receive, send_with_headers)
