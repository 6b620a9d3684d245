"""Parameters the request may not carry.

* No parameter twice (RFC 6749 3.1): a repeated one is refused, not resolved to one value.
* A request object by value has been unpacked before the checks run
  (``service.oidc.assurance.request_object``); one left here sat inside another, which is
  refused. By reference only through PAR: another ``request_uri`` is
  ``request_uri_not_supported`` (OIDC Core 6.2).
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
        raise RequestNotSupported("a request object may not hold another")
    if "request_uri" in draft.params:
        raise RequestUriNotSupported("request_uri is not supported")
