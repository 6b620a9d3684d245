"""``resource`` (RFC 8707 2): the API the access token is for. It must be a registered API's
audience that the client may use, else ``invalid_target``; the token then also carries the
API's scopes that were both asked for and allowed to the client. One resource per request: a
repeated ``resource`` is refused with the other repeated parameters."""

from __future__ import annotations

from service.oidc import apis
from service.oidc.checks.base import Draft


async def check_resource(draft: Draft) -> None:
    client = draft.checked_client
    api = await apis.target(draft.ctx, client, draft.params.get("resource"))
    if api is None:
        return
    asked = (draft.params.get("scope") or "").split()
    draft.found["scope"] = (*draft.found["scope"], *apis.api_scopes(api, client, asked))
    draft.found["resource"] = api.audience
