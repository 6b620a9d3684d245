"""The scope (OIDC Core 3.1.2.1, RFC 6749 3.3): it must include ``openid``; other scopes are kept
only when registered for the client, and unknown ones are dropped rather than refused."""

from __future__ import annotations

from service.oidc.checks.base import Draft
from service.oidc.errors import InvalidScope


async def check_scope(draft: Draft) -> None:
    asked = (draft.params.get("scope") or "").split()
    if "openid" not in asked:
        raise InvalidScope("scope must include openid")
    draft.found["scope"] = tuple(s for s in draft.checked_client.scopes.split() if s in asked)
