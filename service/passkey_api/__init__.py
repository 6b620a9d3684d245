"""The passkey API: apps that keep their own login register and verify passkeys through Sesame.

Each app is a tenant with its own RP ID and origins. Its users and credentials live apart from
Sesame's accounts and from other tenants: every query is scoped by tenant. The folder holds the
service by concern; the HTTP routes are ``service.http.passkey_api`` and the SQL is
``service.db.tenants``.

* ``tenants``: tenants and API keys (CLI, admin API, the bearer check).
* ``ceremonies``: registration and login (WebAuthn), the login token.
* ``credentials``: list, rename, delete.
"""

from __future__ import annotations

from service.passkey_api.ceremonies import (
    LOGIN_TOKEN_SECONDS,
    AppUser,
    begin_login,
    begin_registration,
    finish_login,
    finish_registration,
    relying_party,
)
from service.passkey_api.credentials import (
    credential_view,
    delete_credentials,
    list_credentials,
    rename_credential,
)
from service.passkey_api.tenants import (
    TenantRejected,
    Unauthorized,
    create_tenant,
    delete_tenant,
    find_tenant,
    list_keys,
    list_tenants,
    new_api_key,
    revoke_api_key,
    tenant_for_key,
)

__all__ = [
    "LOGIN_TOKEN_SECONDS",
    "AppUser",
    "TenantRejected",
    "Unauthorized",
    "begin_login",
    "begin_registration",
    "create_tenant",
    "credential_view",
    "delete_credentials",
    "delete_tenant",
    "find_tenant",
    "finish_login",
    "finish_registration",
    "list_credentials",
    "list_keys",
    "list_tenants",
    "new_api_key",
    "relying_party",
    "rename_credential",
    "revoke_api_key",
    "tenant_for_key",
]
