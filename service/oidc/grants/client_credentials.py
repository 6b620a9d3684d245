"""The client credentials grant (RFC 6749 section 4.4): a confidential client acting for
itself. No user, so no ID token and no refresh token, and user scopes are not granted; with
``resource`` (RFC 8707 2.2) it gets the API's scopes it asked for and is allowed.

Round trips: one, the grant's insert, conditional on the client row's version
(``service.db.clients``) and, with a ``resource``, on the API's row (kept in process,
``service.db.apis.ApiCache``) still having the scopes granted from it. An API row changed
since is read again and the request decided again."""

from __future__ import annotations

from datetime import timedelta

from service.db import grants as grant_rows
from service.db import hot
from service.db.clients import StaleClient
from service.db.models import Grant, OAuthClient
from service.keys.keyed import new_token
from service.oidc import apis, tokens
from service.oidc.assurance.dpop import Proof
from service.oidc.context import OidcContext
from service.oidc.grants.base import (
    GrantType,
    Registering,
    Response,
    bearer_response,
    client_pk,
    confirmed_refusal,
)


async def issue_for_client(
    ctx: OidcContext, client: OAuthClient, params: dict[str, str], proof: Proof | None
) -> Response:
    try:
        return await _issue(ctx, client, params, proof)
    except StaleClient:
        resource = params.get("resource")
        if resource is None or ctx.apis.get(resource) is None:
            raise
        # The API's row, or the client's, changed: the API's is read again here, and a
        # client's change is the token endpoint's to decide again on (StaleClient again).
        ctx.apis.drop(resource)
        return await _issue(ctx, client, params, proof)


async def _issue(
    ctx: OidcContext, client: OAuthClient, params: dict[str, str], proof: Proof | None
) -> Response:
    asked = (params.get("scope") or "").split()
    resource = params.get("resource")
    api = await confirmed_refusal(ctx, client, apis.target(ctx, client, resource, kept=True))
    if api is not None:  # RFC 8707 2.2: the API's scopes asked for and allowed
        scope = " ".join(apis.api_scopes(api, client, asked))
    else:  # for Sesame itself: registered scopes asked for, never openid (there is no user)
        scope = " ".join(s for s in client.scopes.split() if s in asked and s != "openid")
    now = ctx.clock.now()
    grant = hot.new_row(
        Grant,
        gid=new_token(),
        client_pk=client_pk(client),
        scope=scope,
        resource=api.audience if api else None,
        created_at=now,
        expires_at=now + timedelta(seconds=ctx.settings.access_token_seconds),
    )
    async with hot.connect(ctx.db) as conn:
        await grant_rows.insert_for_client(conn, grant, client, api)
    access = await tokens.access_token(
        ctx,
        client_id=client.client_id,
        subject=client.client_id,
        scope=scope,
        gid=grant.gid,
        now=now,
        audience=grant.resource,
        jkt=proof.jkt if proof else None,
    )
    return bearer_response(ctx, access, scope, proof)


def registration_problem(client: Registering) -> str | None:
    if client.type != "confidential":
        return "client_credentials is for confidential clients only"
    return None


GRANT = GrantType(
    name="client_credentials",
    parameters=("scope", "resource"),
    handler=issue_for_client,
    registration_problem=registration_problem,
    confirms_client=True,
)
