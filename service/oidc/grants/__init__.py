"""Grant types of the token endpoint (RFC 6749 sections 4 and 6), one module each.

``GRANTS`` is the one registry of grant types: the token endpoint dispatches on it, discovery
advertises it (``grant_types_supported``), and client registration and the CLI validate against
it. To add a grant, write a module exporting a ``GrantType`` and list it here.
"""

from __future__ import annotations

from service.oidc.grants import (
    authorization_code,
    client_credentials,
    device_code,
    refresh_token,
)
from service.oidc.grants.base import GrantType, Registering

GRANTS: dict[str, GrantType] = {
    grant.name: grant
    for grant in (
        authorization_code.GRANT,
        refresh_token.GRANT,
        client_credentials.GRANT,
        device_code.GRANT,
    )
}
GRANT_TYPES = tuple(GRANTS)
DEFAULT_GRANT_TYPES = tuple(name for name, grant in GRANTS.items() if grant.default)
# Short names an operator may type (``--grant device_code``) for a grant type's URN.
ALIASES = {grant.alias: name for name, grant in GRANTS.items() if grant.alias}
DEVICE_CODE = device_code.GRANT.name


def canonical(names: list[str]) -> list[str]:
    """Grant types as registered: aliases replaced by the URN they stand for."""
    return [ALIASES.get(name, name) for name in names]


def registration_problem(client: Registering) -> str | None:
    """Why a client may not register the grant types it asks for, or None (RFC 7591 2: the
    grant types a client may use are fixed at registration)."""
    if not client.grant_types or set(client.grant_types) - set(GRANTS):
        return f"grant types: a subset of {' '.join(GRANT_TYPES)}"
    for name in client.grant_types:
        problem = GRANTS[name].registration_problem(client)
        if problem:
            return problem
    return None


__all__ = [
    "ALIASES",
    "DEFAULT_GRANT_TYPES",
    "DEVICE_CODE",
    "GRANTS",
    "GRANT_TYPES",
    "GrantType",
    "canonical",
    "registration_problem",
]
