"""The client and its redirect URI (RFC 6749 3.1.2.3 and 4.1.2.1, RFC 9700 4.1.3).

* ``client_id`` names a registered client; ``redirect_uri`` is one of its registered URIs,
  compared as an exact string (a loopback IP may change port, RFC 8252 7.3).
* Both must be given once. Until both hold, an error is shown to the person and never
  redirected (``BadAuthorizationRequest``), so Sesame is not an open redirector.
"""

from __future__ import annotations

from service.oidc.checks.base import Draft
from service.oidc.clients import get_client, redirect_uri_matches
from service.oidc.errors import BadAuthorizationRequest


async def check_client(draft: Draft) -> None:
    if "client_id" in draft.repeated or "redirect_uri" in draft.repeated:
        raise BadAuthorizationRequest("client_id and redirect_uri may each be given only once")
    client_id = draft.params.get("client_id")
    if not client_id:
        raise BadAuthorizationRequest("The request does not say which app is asking (client_id).")
    client = await get_client(draft.ctx, client_id) if len(client_id) <= 64 else None
    if client is None:
        raise BadAuthorizationRequest("The app that sent you here is not registered with Sesame.")
    draft.client = client


async def check_redirect_uri(draft: Draft) -> None:
    redirect_uri = draft.params.get("redirect_uri")
    if not redirect_uri:
        raise BadAuthorizationRequest("The request has no redirect_uri; the app must send one.")
    if not redirect_uri_matches(draft.checked_client.redirect_uris.split(), redirect_uri):
        raise BadAuthorizationRequest(
            "The app asked to return to an address it has not registered; Sesame will not send "
            "you there."
        )
    draft.redirect_uri = redirect_uri
