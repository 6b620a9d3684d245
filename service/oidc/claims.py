"""Standard claims by scope (OIDC Core 5.1 and 5.4): ``sub`` always; ``profile`` adds name and
preferred_username; ``email`` adds email and email_verified (true once the person used a link or
code sent to that address); ``groups`` adds the names of the person's groups (a JSON array,
as Keycloak, Okta and Azure AD send it; ``service.oidc.groups``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from service.db.models import User

CLAIMS_SUPPORTED = (
    "sub",
    "iss",
    "auth_time",
    "amr",
    "acr",
    "sid",
    "name",
    "preferred_username",
    "email",
    "email_verified",
    "groups",
)


def user_claims(user: User, scope: Iterable[str], groups: tuple[str, ...] = ()) -> dict[str, Any]:
    scopes = set(scope)
    claims: dict[str, Any] = {"sub": str(user.public_id)}
    if "profile" in scopes:
        claims["preferred_username"] = user.username
        if user.name:
            claims["name"] = user.name
    if "email" in scopes:
        claims["email"] = user.email
        claims["email_verified"] = user.email_verified_at is not None
    if "groups" in scopes:
        claims["groups"] = list(groups)
    return claims
