"""Authorization-request checks (OIDC Core 3.1.2.2, RFC 6749 4.1.1), one small module each, run
in the order of ``CHECKS`` by ``authorize.validate_authorization_request``.

The first two establish the client and its redirect URI; their errors are shown to the person.
Every later error is redirectable (``OAuthError.redirectable``) and goes back to that validated
redirect URI with ``state`` and ``iss``. To add a check, write it in a module of its own,
opening with the rule and the spec section, and list it here where it belongs.

``display``, ``claims_locales`` and unknown parameters are accepted and ignored (OIDC Core
3.1.2.1); of ``claims``, only ``acr`` is acted on (5.5).
"""

from __future__ import annotations

from service.oidc.checks import (
    acr,
    client,
    dpop,
    id_token_hint,
    offline_access,
    par,
    parameters,
    pkce,
    prompt,
    resource,
    response,
    scope,
    values,
)
from service.oidc.checks.base import Check, Draft
from service.oidc.checks.prompt import PROMPTS

CHECKS: tuple[Check, ...] = (
    client.check_client,
    client.check_redirect_uri,
    parameters.check_single_values,
    parameters.check_no_request_object,
    par.check_pushed,
    response.check_response_type,
    response.check_response_mode,
    response.check_client_uses_code,
    values.check_state,
    pkce.check_pkce,
    scope.check_scope,
    resource.check_resource,
    values.check_nonce,
    prompt.check_prompt,
    offline_access.check_offline_access,
    prompt.check_max_age,
    values.check_login_hint,
    values.check_ui_locales,
    id_token_hint.check_id_token_hint,
    acr.check_acr,
    dpop.check_dpop_jkt,
)

__all__ = ["CHECKS", "PROMPTS", "Check", "Draft"]
