"""``offline_access`` (OIDC Core 11): a refresh token that outlives the browser session. It is
kept only where the person is asked (``prompt=consent``) or the client is first-party (the
operator's own app); otherwise it is ignored, as the spec says, not refused."""

from __future__ import annotations

from service.oidc.checks.base import Draft


async def check_offline_access(draft: Draft) -> None:
    scope = draft.found["scope"]
    if "offline_access" not in scope:
        return
    if draft.checked_client.first_party or "consent" in draft.found.get("prompt", ()):
        return
    draft.found["scope"] = tuple(s for s in scope if s != "offline_access")
