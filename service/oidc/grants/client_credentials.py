"""The client credentials grant (RFC 6749 section 4.4): a confidential client acting for
itself. No user, so no ID token and no refresh token, and user scopes are not granted."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from service.db import grants as grant_rows
from service.db.models import Grant, OAuthClient
from service.keys.keyed import new_token
from service.oidc import tokens
from service.oidc.context import OidcContext
from service.oidc.grants.base import GrantType, Registering, Response, bearer_response, client_pk


async def issue_for_client(
    ctx: OidcContext, db: AsyncSession, client: OAuthClient, params: dict[str, str]
) -> Response:
    asked = (params.get("scope") or "").split()
    scope = " ".join(s for s in client.scopes.split() if s in asked and s != "openid")
    now = ctx.clock.now()
    grant = Grant(
        gid=new_token(),
        client_pk=client_pk(client),
        scope=scope,
        created_at=now,
        expires_at=now + timedelta(seconds=ctx.settings.access_token_seconds),
    )
    await grant_rows.add(db, grant)
    await db.commit()
    access = await tokens.access_token(
        ctx,
        client_id=client.client_id,
        subject=client.client_id,
        scope=scope,
        gid=grant.gid,
        now=now,
    )
    return bearer_response(ctx, access, scope)


def registration_problem(client: Registering) -> str | None:
    if client.type != "confidential":
        return "client_credentials is for confidential clients only"
    return None


GRANT = GrantType(
    name="client_credentials",
    parameters=("scope",),
    handler=issue_for_client,
    registration_problem=registration_problem,
)
