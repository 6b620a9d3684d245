"""Provider metadata (OIDC Discovery 1.0 section 3, RFC 8414 section 2), derived from what the
code actually does: grant types and client authentication methods from their registries,
algorithms from the signer, scopes from the client rules."""

from __future__ import annotations

from typing import Any

from service.i18n import LOCALES, html_lang
from service.keys.signing import ALGORITHMS
from service.oidc.assurance.acr import ACR_VALUES
from service.oidc.assurance.signed import ASYMMETRIC
from service.oidc.checks import PROMPTS
from service.oidc.claims import CLAIMS_SUPPORTED
from service.oidc.client_auth import AUTH_METHODS, PROVING_METHODS
from service.oidc.clients import SCOPES
from service.oidc.grants import GRANTS
from service.settings import Settings


def provider_metadata(settings: Settings) -> dict[str, Any]:
    issuer = settings.issuer
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        "device_authorization_endpoint": f"{issuer}/device_authorization",
        "userinfo_endpoint": f"{issuer}/userinfo",
        "jwks_uri": f"{issuer}/jwks.json",
        "revocation_endpoint": f"{issuer}/revoke",
        "introspection_endpoint": f"{issuer}/introspect",
        "end_session_endpoint": f"{issuer}/logout",
        # RFC 9126 5: pushed authorization requests, required of every client or of some.
        "pushed_authorization_request_endpoint": f"{issuer}/par",
        "require_pushed_authorization_requests": settings.require_par,
        "scopes_supported": list(SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": list(GRANTS),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": list(ALGORITHMS),
        "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "revocation_endpoint_auth_methods_supported": list(AUTH_METHODS),
        # RFC 7662 2.1: introspection is protected, so only methods that prove who asks.
        "introspection_endpoint_auth_methods_supported": list(PROVING_METHODS),
        # RFC 7523 / OIDC Core 9: private_key_jwt assertions, asymmetric algorithms only.
        "token_endpoint_auth_signing_alg_values_supported": list(ASYMMETRIC),
        "revocation_endpoint_auth_signing_alg_values_supported": list(ASYMMETRIC),
        "introspection_endpoint_auth_signing_alg_values_supported": list(ASYMMETRIC),
        # RFC 9449 5.1: DPoP proofs.
        "dpop_signing_alg_values_supported": list(ASYMMETRIC),
        # OIDC Core 2: access levels by the way of signing in (assurance.acr).
        "acr_values_supported": list(ACR_VALUES),
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": list(CLAIMS_SUPPORTED),
        "prompt_values_supported": sorted(PROMPTS),
        "authorization_response_iss_parameter_supported": True,
        # RFC 9101: signed request objects by value (and pushed); by reference only via PAR.
        "request_parameter_supported": True,
        "request_object_signing_alg_values_supported": list(ASYMMETRIC),
        "request_uri_parameter_supported": False,
        # OIDC Core 5.5: accepted; an essential acr is acted on, other claims are voluntary.
        "claims_parameter_supported": True,
        # OIDC Discovery 3: the languages of the hosted pages (BCP 47), for ui_locales.
        "ui_locales_supported": [html_lang(code) for code in LOCALES],
        # Back-Channel Logout 1.0 2.1: logout tokens carry sid whenever the grant has one.
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
    }
