"""Protocol errors (RFC 6749 sections 4.1.2.1 and 5.2, OIDC Core 3.1.2.6, RFC 6750 section 3.1).

Each carries its ``error`` code, an HTTP status and whether it may be sent to the client's
redirect URI: only once the client and redirect URI were validated (RFC 6749 4.1.2.1), never
before. ``service.http.oidc_errors`` turns them into responses, in one place.
"""

from __future__ import annotations


class OAuthError(Exception):
    error = "invalid_request"
    status_code = 400
    redirectable = True

    def __init__(self, description: str, *, detail: str = "") -> None:
        super().__init__(description)
        self.description = description  # public: the error_description (RFC 6749 5.2)
        self.detail = detail  # for the log only
        self.headers: dict[str, str] = {}  # sent with the answer (a DPoP-Nonce, say)


class InvalidRequest(OAuthError):
    error = "invalid_request"


class InvalidClient(OAuthError):
    error = "invalid_client"
    status_code = 401
    redirectable = False


class InvalidGrant(OAuthError):
    error = "invalid_grant"


class UnauthorizedClient(OAuthError):
    error = "unauthorized_client"


class UnsupportedGrantType(OAuthError):
    error = "unsupported_grant_type"


class UnsupportedResponseType(OAuthError):
    error = "unsupported_response_type"


class UnsupportedTokenType(OAuthError):
    error = "unsupported_token_type"


class InvalidScope(OAuthError):
    error = "invalid_scope"


class AccessDenied(OAuthError):
    error = "access_denied"


class InvalidTarget(OAuthError):
    """RFC 8707 2: the resource is unknown, malformed, or not for this client."""

    error = "invalid_target"


class AuthorizationPending(OAuthError):
    """RFC 8628 3.5: the person has not decided yet; poll again after the interval."""

    error = "authorization_pending"


class SlowDown(OAuthError):
    """RFC 8628 3.5: polling faster than the interval; the interval grows by 5 seconds."""

    error = "slow_down"


class ExpiredToken(OAuthError):
    """RFC 8628 3.5: the device code expired; start again with a new one."""

    error = "expired_token"


class LoginRequired(OAuthError):
    error = "login_required"


class ConsentRequired(OAuthError):
    error = "consent_required"


class RequestNotSupported(OAuthError):
    error = "request_not_supported"


class RequestUriNotSupported(OAuthError):
    error = "request_uri_not_supported"


class InvalidRequestUri(OAuthError):
    """RFC 9126 4 / RFC 9101 6.2: the ``request_uri`` is unknown, used, expired, or another
    client's. Shown to the person: no redirect URI is known to be this client's yet."""

    error = "invalid_request_uri"
    redirectable = False


class TemporarilyUnavailable(OAuthError):
    """RFC 6749 4.1.2.1: the server cannot handle the request now (its storage is away); sent
    to the client's validated redirect URI like any other authorization error."""

    error = "temporarily_unavailable"
    status_code = 503


class InvalidToken(OAuthError):
    """RFC 6750 3.1: a bearer token that is missing, expired, revoked or malformed."""

    error = "invalid_token"
    status_code = 401
    redirectable = False
    scheme = "Bearer"  # of the WWW-Authenticate challenge


class InvalidDpopProof(OAuthError):
    """RFC 9449 5: a DPoP proof at the authorization server that is missing where required,
    malformed, replayed, or for another request."""

    error = "invalid_dpop_proof"


class UseDpopNonce(OAuthError):
    """RFC 9449 8: the proof must carry the server's nonce, sent in ``DPoP-Nonce``."""

    error = "use_dpop_nonce"

    def __init__(self, description: str, nonce: str) -> None:
        super().__init__(description)
        self.headers["DPoP-Nonce"] = nonce


class DpopTokenRefused(InvalidToken):
    """RFC 9449 7.1: at a protected resource, a DPoP-bound token without its proof, with a
    proof that fails, or presented as a plain bearer token; challenged with the DPoP scheme."""

    scheme = "DPoP"

    def __init__(self, description: str, *, error: str = "invalid_dpop_proof") -> None:
        super().__init__(description)
        self.error = error


class BadAuthorizationRequest(OAuthError):
    """Unknown client or unregistered redirect URI: shown to the person, never redirected
    (RFC 6749 4.1.2.1), so Sesame cannot be used as an open redirector."""

    error = "invalid_request"
    redirectable = False


class InteractionGone(OAuthError):
    """The parked authorization request expired, was finished, or belongs to another browser."""

    error = "interaction_expired"
    redirectable = False


class ErrorRedirect(Exception):
    """An authorization error for the client, sent to its validated redirect URI with ``state``
    and ``iss`` (RFC 6749 4.1.2.1, RFC 9207)."""

    def __init__(self, cause: OAuthError, redirect_uri: str, state: str | None) -> None:
        super().__init__(cause.description)
        self.cause = cause
        self.redirect_uri = redirect_uri
        self.state = state


class BadLogoutRequest(OAuthError):
    """An RP-initiated logout request Sesame will not follow back to the app (shown as a
    page)."""

    error = "invalid_request"
    redirectable = False
