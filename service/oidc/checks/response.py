"""What the client asks back, and whether it may.

* ``response_type`` is required and must be ``code``: no implicit or hybrid flow
  (RFC 9700 2.1.2, OIDC Core 3.1.2.1).
* ``response_mode``, when given, is ``query`` (OAuth 2.0 Multiple Response Type Encoding 2.1).
* The client registered the authorization_code grant (RFC 6749 4.1.2.1 ``unauthorized_client``).
"""

from __future__ import annotations

from service.oidc.checks.base import Draft
from service.oidc.errors import InvalidRequest, UnauthorizedClient, UnsupportedResponseType


async def check_response_type(draft: Draft) -> None:
    response_type = draft.params.get("response_type")
    if response_type is None:
        raise InvalidRequest("response_type is required")
    if response_type != "code":
        raise UnsupportedResponseType("only response_type=code is supported")


async def check_response_mode(draft: Draft) -> None:
    if draft.params.get("response_mode", "query") != "query":
        raise InvalidRequest("only response_mode=query is supported")


async def check_client_uses_code(draft: Draft) -> None:
    if "authorization_code" not in draft.checked_client.grant_types.split():
        raise UnauthorizedClient("this client may not use the authorization code flow")
