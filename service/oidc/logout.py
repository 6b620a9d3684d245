"""RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0).

* ``id_token_hint``: an ID token Sesame issued (expired is fine); it names the client and the
  browser session (``sid``).
* ``post_logout_redirect_uri`` is followed only when it is registered, exactly, for the client
  named by the hint or by ``client_id`` (section 3); otherwise the request is refused on a page.
* Logging out is a state change, so a request that could be forged (no hint, or a hint for
  another session) only shows a confirmation page; a valid hint for this browser's session
  (or when no session is left) logs out at once (section 2: the OP may skip asking when the hint
  shows the RP's intent).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from service.keys.signing import TokenInvalid
from service.oidc.clients import get_client
from service.oidc.codes import with_query
from service.oidc.context import OidcContext
from service.oidc.errors import BadLogoutRequest
from service.oidc.params import single_values

NOT_OURS = "The sign-out request carries a token Sesame did not issue."


@dataclass(frozen=True)
class LogoutRequest:
    client_id: str | None = None
    client_name: str | None = None
    post_logout_redirect_uri: str | None = None
    state: str | None = None
    hint_sid: str | None = None

    def confirmation_needed(self, current_sid: str | None) -> bool:
        if current_sid is None:
            return False
        return self.hint_sid is None or self.hint_sid != current_sid

    def location(self) -> str | None:
        if self.post_logout_redirect_uri is None:
            return None
        return with_query(self.post_logout_redirect_uri, {"state": self.state})

    def fields(self) -> dict[str, str]:
        """What the confirmation form posts back (the hint is replaced by what it proved)."""
        values = {
            "client_id": self.client_id,
            "post_logout_redirect_uri": self.post_logout_redirect_uri,
            "state": self.state,
        }
        return {k: v for k, v in values.items() if v is not None}


async def _hint(ctx: OidcContext, hint: str) -> tuple[str, str | None]:
    try:
        claims = await ctx.signer.verify(hint)
    except TokenInvalid as exc:
        raise BadLogoutRequest(
            "The sign-out request carries a token Sesame did not issue."
        ) from exc
    aud = claims.get("aud")
    client_id = aud[0] if isinstance(aud, list) and aud else aud
    if claims.get("iss") != ctx.settings.issuer or not isinstance(client_id, str):
        raise BadLogoutRequest(NOT_OURS)
    sid = claims.get("sid")
    return client_id, sid if isinstance(sid, str) else None


async def validate_logout_request(
    ctx: OidcContext, pairs: Iterable[tuple[str, str]]
) -> LogoutRequest:
    params, repeated = single_values(pairs)
    params.pop("csrf_token", None)
    if repeated - {"csrf_token"}:
        raise BadLogoutRequest("The sign-out request repeats a parameter.")
    client_id = params.get("client_id")
    hint_sid = None
    if "id_token_hint" in params:
        hinted, hint_sid = await _hint(ctx, params["id_token_hint"])
        if client_id is not None and client_id != hinted:
            raise BadLogoutRequest("client_id and id_token_hint name different apps.")
        client_id = hinted
    client = await get_client(ctx, client_id) if client_id and len(client_id) <= 64 else None
    if client_id is not None and client is None:
        raise BadLogoutRequest("The app that sent you here is not registered with Sesame.")
    uri = params.get("post_logout_redirect_uri")
    if uri is not None and (client is None or uri not in client.post_logout_redirect_uris.split()):
        raise BadLogoutRequest(
            "The app asked to return to an address it has not registered for sign-out; "
            "Sesame will not send you there."
        )
    state = params.get("state")
    return LogoutRequest(
        client_id=client.client_id if client else None,
        client_name=client.name if client else None,
        post_logout_redirect_uri=uri,
        state=state if uri is not None and state and len(state) <= 2048 else None,
        hint_sid=hint_sid,
    )
