"""Values the client sends to get back or to bind: each kept once and length-limited, so one
request cannot fill the interaction store or the code (RFC 6749 4.1.1 ``state``, OIDC Core
3.1.2.1 ``nonce`` and ``login_hint``)."""

from __future__ import annotations

from service.oidc.checks.base import MAX_STATE, Draft

MAX_NONCE = 512
MAX_HINT = 320


async def check_state(draft: Draft) -> None:
    draft.limited("state", MAX_STATE)


async def check_nonce(draft: Draft) -> None:
    draft.limited("nonce", MAX_NONCE)


async def check_login_hint(draft: Draft) -> None:
    draft.limited("login_hint", MAX_HINT)
