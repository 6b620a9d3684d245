"""``id_token_hint`` (OIDC Core 3.1.2.1): an ID token Sesame issued earlier to this client
(expired is fine) names the user the client expects; a token Sesame did not sign, or signed for
another client, is refused."""

from __future__ import annotations

from service.keys.signing import TokenInvalid
from service.oidc.checks.base import Draft
from service.oidc.errors import InvalidRequest


async def check_id_token_hint(draft: Draft) -> None:
    hint = draft.params.get("id_token_hint")
    if hint is None:
        return
    ctx = draft.ctx
    try:
        claims = await ctx.signer.verify(hint)
    except TokenInvalid as exc:
        raise InvalidRequest("id_token_hint is not an ID token issued by Sesame") from exc
    aud = claims.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    if claims.get("iss") != ctx.settings.issuer or draft.checked_client.client_id not in audiences:
        raise InvalidRequest("id_token_hint was not issued by Sesame to this client")
    sub = claims.get("sub")
    if not isinstance(sub, str):
        raise InvalidRequest("id_token_hint has no subject")
    draft.found["hint_subject"] = sub
