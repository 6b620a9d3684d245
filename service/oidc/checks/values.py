"""Values the client sends to get back or to bind: each kept once and length-limited, so one
request cannot fill the interaction store or the code (RFC 6749 4.1.1 ``state``, OIDC Core
3.1.2.1 ``nonce``, ``login_hint`` and ``ui_locales``)."""

from __future__ import annotations

from service.oidc.checks.base import MAX_STATE, Draft

MAX_NONCE = 512
MAX_HINT = 320
MAX_UI_LOCALES = 200


async def check_state(draft: Draft) -> None:
    draft.limited("state", MAX_STATE)


async def check_nonce(draft: Draft) -> None:
    draft.limited("nonce", MAX_NONCE)


async def check_login_hint(draft: Draft) -> None:
    draft.limited("login_hint", MAX_HINT)


async def check_ui_locales(draft: Draft) -> None:
    """OIDC Core 3.1.2.1 ``ui_locales``: the languages the person prefers for the pages, in
    order; kept for the sign-in and consent pages (``service.i18n.negotiate``). Tags Sesame
    does not speak are skipped there, never an error."""
    draft.limited("ui_locales", MAX_UI_LOCALES)
