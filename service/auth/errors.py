"""Errors a person can cause during sign-up, sign-in and account changes.

Each carries a stable ``error`` code, an HTTP status and a public message; the cause (a
py_webauthn exception, say) is kept as ``__cause__`` for the log, never shown. The http layer
maps them to responses in one place.
"""

from __future__ import annotations

from service.i18n import N_, translate
from service.problems import Problem


class AuthError(Problem):
    """The ceremonies' errors: a ``Problem`` with its code, status and public message."""


class CeremonyExpired(AuthError):
    error = "ceremony_expired"
    message = N_("This passkey request expired or was already used. Please try again.")


class InvalidPasskeyResponse(AuthError):
    error = "invalid_response"
    message = N_(
        "Your passkey's answer could not be verified. Nothing was changed; please try again."
    )


class UnknownPasskey(AuthError):
    # Same message for an unknown credential, an unknown user and a credential of another user,
    # so the answer never tells whether an account exists.
    error = "unknown_passkey"
    message = N_("This passkey is not registered here. Try another passkey or sign up.")


class AccountDisabled(AuthError):
    error = "account_disabled"
    status_code = 403
    message = N_("This account is disabled.")


class SignupRejected(AuthError):
    error = "invalid_signup"

    def __init__(self, fields: dict[str, str], *, status_code: int = 400) -> None:
        self.fields = fields  # field name -> English message id
        self.status_code = status_code
        super().__init__(detail=" ".join(fields.values()))

    def localized_fields(self, locale: str) -> dict[str, str]:
        return {name: translate(locale, text) for name, text in self.fields.items()}

    def localized(self, locale: str) -> str:
        return " ".join(self.localized_fields(locale).values())


class PasskeyAlreadyRegistered(AuthError):
    error = "passkey_exists"
    status_code = 409
    message = N_("This passkey is already registered.")


class LastPasskey(AuthError):
    error = "last_passkey"
    status_code = 409
    message = N_("You cannot delete your only passkey: add another one first.")


class NotFound(AuthError):
    error = "not_found"
    status_code = 404
    message = N_("That was not found.")


class CsrfFailed(AuthError):
    error = "csrf_failed"
    status_code = 403
    message = N_("This form has expired. Reload the page and try again.")


class NotSignedIn(AuthError):
    error = "login_required"
    status_code = 401
    message = N_("Please sign in first.")


class RateLimited(AuthError):
    error = "rate_limited"
    status_code = 429

    def __init__(self, *, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(
            N_("Too many requests. Please try again in %(seconds)s seconds."),
            detail=f"rate limited for {retry_after} s",
            seconds=retry_after,
        )


class LinkInvalid(AuthError):
    error = "link_invalid"
    status_code = 410
    message = N_("This link has expired, was already used, or was replaced by a newer one.")


class LinkOtherBrowser(AuthError):
    error = "link_other_browser"
    status_code = 409
    message = N_(
        "This link was requested in another browser. Open it there, or type the code from the "
        "email in the tab where you asked for it."
    )


class CodeInvalid(AuthError):
    error = "code_invalid"
    message = N_("That code is not right. Check the email and try again.")


class TooManyAttempts(AuthError):
    error = "too_many_attempts"
    status_code = 429
    message = N_("Too many wrong codes. Please ask for a new link.")


class StepUpRequired(AuthError):
    error = "step_up_required"
    status_code = 403
    message = N_("For this change, please confirm it is you with one of your passkeys first.")
