"""Pushed requests only, where required (RFC 9126 6; FAPI 2.0 Security Profile 5.3.1.2): a
client registered with ``require_pushed_authorization_requests``, or every client under
``SESAME_REQUIRE_PAR``, must send its authorization request through ``/par``."""

from __future__ import annotations

from service.oidc.checks.base import Draft
from service.oidc.errors import InvalidRequest


async def check_pushed(draft: Draft) -> None:
    required = draft.ctx.settings.require_par or draft.checked_client.require_par
    if required and not draft.pushed:
        raise InvalidRequest("this client must push its authorization requests to /par")
