"""Standard claims by scope (OIDC Core 5.1 and 5.4): ``sub`` always; ``profile`` adds name and
preferred_username; ``email`` adds email. ``email_verified`` joins once Sesame verifies email
addresses (it does not yet, so it does not claim either way)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from service.db.models import User

CLAIMS_SUPPORTED = ("sub", "iss", "auth_time", "amr", "sid", "name", "preferred_username", "email")


def user_claims(user: User, scope: Iterable[str]) -> dict[str, Any]:
    scopes = set(scope)
    claims: dict[str, Any] = {"sub": str(user.public_id)}
    if "profile" in scopes:
        claims["preferred_username"] = user.username
        if user.name:
            claims["name"] = user.name
    if "email" in scopes:
        claims["email"] = user.email
    return claims
