"""Browser apps calling the back channel cross-origin (Fetch standard, "CORS protocol").

A single-page app exchanges its code, refreshes, reads ``/userinfo`` and revokes from its own
origin; it can read the answers only if Sesame says that origin may (``Access-Control-Allow-
Origin``). ``CORS_ENDPOINTS`` lists the endpoints that answer so, with their methods. An origin
is allowed when a registered client lists it (``OAuthClient.allowed_origins``); credentials
(cookies) are never allowed, so a page can only send what it holds itself. The authorization
endpoint and the hosted pages never answer CORS: a person reaches them by navigation.

A browser app is a public client with allowed origins: its refresh tokens rotate like every
other, and lapse after ``SESAME_BROWSER_REFRESH_IDLE_SECONDS`` unused (shorter than a server's,
since a script's storage is easier to read than a server's).
"""

from __future__ import annotations

import re

from service.db import clients as client_rows
from service.db.models import OAuthClient
from service.oidc.context import OidcContext

_LABEL = "[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
ORIGIN = re.compile(
    rf"(?:https://{_LABEL}(?:\.{_LABEL})*|http://(?:localhost|127\.0\.0\.1|\[::1\]))"
    r"(?::[1-9][0-9]{0,4})?",
    re.IGNORECASE,  # registered in any case, stored (and sent by browsers) in lower case
)
MAX_ORIGINS = 20


def origin_problem(origin: str) -> str | None:
    """An allowed origin (Fetch, "origin" serialization): https, or http on a loopback host;
    a scheme, a host and maybe a port, nothing else."""
    _, _, port = origin.rpartition(":")
    if not ORIGIN.fullmatch(origin) or (port.isdigit() and int(port) > 65535):
        return "must be an origin: https://host[:port] (or http on a loopback host), no path"
    return None


# Path -> methods a script may use there.
CORS_ENDPOINTS: dict[str, tuple[str, ...]] = {
    "/.well-known/openid-configuration": ("GET",),
    "/.well-known/oauth-authorization-server": ("GET",),
    "/jwks.json": ("GET",),
    "/token": ("POST",),
    "/userinfo": ("GET", "POST"),
    "/revoke": ("POST",),
}
# Request headers a script may send: the bearer token and the form's content type.
# DPoP: a browser app's proofs (RFC 9449 4.1) and the nonce it is sent (8).
ALLOWED_HEADERS = ("authorization", "content-type", "dpop")
# Response headers a script may read: the challenge on a refused token (RFC 6750 3, RFC 9449
# 7.1) and a DPoP nonce.
EXPOSED_HEADERS = ("www-authenticate", "dpop-nonce")
PREFLIGHT_MAX_AGE = 600


async def origin_allowed(ctx: OidcContext, origin: str) -> bool:
    """Whether a registered client lists ``origin``. Anything that is not a well-formed origin
    (``null``, a path, a wildcard) is not, without a query."""
    if len(origin) > 300 or not ORIGIN.fullmatch(origin) or origin != origin.lower():
        return False
    async with ctx.db.session() as db:
        return await client_rows.origin_registered(db, origin)


def is_browser_app(client: OAuthClient) -> bool:
    return client.type == "public" and bool(client.allowed_origins)
