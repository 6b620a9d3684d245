"""Parameters the request may not carry.

* No parameter twice (RFC 6749 3.1): a repeated one is refused, not resolved to one value.
* No request object, by value or by reference (OIDC Core 6.1 and 6.2): Sesame supports
  neither, and says so with ``request_not_supported`` / ``request_uri_not_supported``.
"""

from __future__ import annotations

from service.oidc.checks.base import Draft
from service.oidc.errors import InvalidRequest, RequestNotSupported, RequestUriNotSupported


async def check_single_values(draft: Draft) -> None:
    if draft.repeated:
        names = ", ".join(sorted(draft.repeated))
        raise InvalidRequest(f"parameters given more than once: {names}")


async def check_no_request_object(draft: Draft) -> None:
    if "request" in draft.params:
        raise RequestNotSupported("request objects are not supported")
    if "request_uri" in draft.params:
        raise RequestUriNotSupported("request_uri is not supported")
