"""The one shape of an error a request can cause (outside the OAuth protocol's own errors,
``service.oidc.errors``): a stable ``error`` code, an HTTP ``status_code`` and a public
``message``; ``detail`` (and ``__cause__``) are for the log only. ``service.http.errors`` turns
every ``Problem`` into a response in one place: JSON for APIs and scripts, a page for people.
"""

from __future__ import annotations

from typing import Any

from service.i18n import DEFAULT, translate


class Problem(Exception):
    error = "invalid_request"
    status_code = 400
    message = "The request could not be processed."

    def __init__(self, message: str | None = None, *, detail: str = "", **values: Any) -> None:
        if message:
            self.message = message
        # ``message`` is an English message id; its ``%(name)s`` placeholders take ``values``.
        self.values = values
        self.detail = detail  # for the log only
        super().__init__(detail or self.localized(DEFAULT))

    def localized(self, locale: str) -> str:
        """The public message in ``locale`` (``service.i18n``; English where untranslated)."""
        return translate(locale, self.message, **self.values)
