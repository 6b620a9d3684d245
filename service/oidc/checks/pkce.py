"""PKCE (RFC 7636 4.3, RFC 9700 2.1.1): ``S256`` only; required of public clients, checked
whenever given by a confidential one. The rules themselves are ``service.oidc.pkce``."""

from __future__ import annotations

from service.oidc import pkce
from service.oidc.checks.base import Draft


async def check_pkce(draft: Draft) -> None:
    draft.found["code_challenge"] = pkce.check_challenge(
        draft.params.get("code_challenge"),
        draft.params.get("code_challenge_method"),
        required=draft.checked_client.type == "public",
    )
