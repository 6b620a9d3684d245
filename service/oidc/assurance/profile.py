"""How a client is held to high assurance, as registered (RFC 7591 2, RFC 9449 5.2, FAPI 2.0
Security Profile 5): its authentication method, its keys, whether its access tokens are always
DPoP-bound, and the per-client ``fapi2`` switch.

A ``fapi2`` client (FAPI 2.0 Security Profile 5.3) is confidential and:

* authenticates with ``private_key_jwt`` (5.3.3.4), signing with PS256, ES256 or Ed25519 only
  (5.4.1), as it signs its request objects and DPoP proofs;
* pushes every authorization request to ``/par`` (5.3.1.2), with PKCE S256 (every client here);
* gets only DPoP-bound access tokens (5.3.1.1; mTLS is not offered);
* gets ID tokens signed with ES256 or EdDSA (5.4.1: not RS256);
* keeps its refresh token across refreshes: no rotation (5.3.2.1), since a refresh token of a
  confidential client is already bound to its authentication.

Codes live at most 60 seconds for every client (5.3.2.1), and ``iss`` comes back with every
authorization response (RFC 9207), so the profile needs nothing more there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from service.oidc.assurance.jwks import checked_jwks, jwks_uri_problem

PROFILES = ("fapi2",)
FAPI_ID_TOKEN_ALGS = ("ES256", "EdDSA")
AUTH_METHOD_NAMES = ("client_secret_basic", "client_secret_post", "private_key_jwt", "none")


@dataclass
class Assurance:
    """What a registration asks for; ``columns`` checks it against the client's type."""

    auth_method: str = ""
    jwks: dict[str, Any] | str | None = None
    jwks_uri: str = ""
    dpop_bound: bool = False
    profile: str = ""


def columns(assurance: Assurance, client_type: str, id_token_alg: str) -> dict[str, Any]:
    """The ``oauth_clients`` values for a registration (``ValueError`` says what is wrong)."""
    method, profile = assurance.auth_method, assurance.profile
    if profile and profile not in PROFILES:
        raise ValueError(f"profile: one of {', '.join(PROFILES)}")
    if profile == "fapi2":
        if client_type != "confidential":
            raise ValueError("the FAPI 2.0 profile is for confidential clients")
        method = method or "private_key_jwt"
        if method != "private_key_jwt":
            raise ValueError("the FAPI 2.0 profile authenticates with private_key_jwt")
        if id_token_alg not in FAPI_ID_TOKEN_ALGS:
            raise ValueError(
                f"the FAPI 2.0 profile signs ID tokens with {' or '.join(FAPI_ID_TOKEN_ALGS)}"
            )
    if method and method not in AUTH_METHOD_NAMES:
        raise ValueError(f"token endpoint auth method: one of {', '.join(AUTH_METHOD_NAMES)}")
    if method == "none" and client_type != "public":
        raise ValueError("only a public client authenticates with none")
    if method and method != "none" and client_type == "public":
        raise ValueError("a public client has no credentials: its auth method is none")
    jwks = checked_jwks(assurance.jwks) if assurance.jwks else ""
    if assurance.jwks_uri:
        problem = jwks_uri_problem(assurance.jwks_uri)
        if problem:
            raise ValueError(f"jwks_uri {problem}")
        if jwks:
            raise ValueError("register jwks or jwks_uri, not both")
    if method == "private_key_jwt" and not (jwks or assurance.jwks_uri):
        raise ValueError("private_key_jwt needs the client's public keys (jwks or jwks_uri)")
    return {
        "auth_method": method,
        "jwks": jwks,
        "jwks_uri": assurance.jwks_uri,
        "dpop_bound": assurance.dpop_bound or profile == "fapi2",
        "profile": profile,
    }


def has_secret(client_type: str, auth_method: str) -> bool:
    return client_type == "confidential" and auth_method != "private_key_jwt"


def view(jwks: str, jwks_uri: str, dpop_bound: bool, profile: str) -> dict[str, Any]:
    """What the CLI and the admin API show of it."""
    return {
        "jwks": json.loads(jwks) if jwks else None,
        "jwks_uri": jwks_uri or None,
        "dpop_bound_access_tokens": dpop_bound,
        "profile": profile or None,
    }
