"""Consent (OIDC Core 3.1.2.4): a client not marked first-party may see a person's claims only
after that person agreed, once per client and set of scopes; the person can take it back on the
account page, which also ends what the client holds (its grants)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from service import audit
from service.db import consents as consent_rows
from service.oidc.context import OidcContext
from service.oidc.model import Authentication, AuthorizationRequest


async def covers(ctx: OidcContext, auth: Authentication, request: AuthorizationRequest) -> bool:
    async with ctx.db.session() as db:
        scope = await consent_rows.scope_for(db, auth.user_id, request.client_id)
    return scope is not None and set(request.scope) <= set(scope.split())


async def remember(ctx: OidcContext, auth: Authentication, request: AuthorizationRequest) -> None:
    async with ctx.db.session() as db:
        previous = await consent_rows.scope_for(db, auth.user_id, request.client_id)
        scope = set(request.scope) | set((previous or "").split())
        ordered = " ".join(sorted(scope))
        await consent_rows.upsert(db, auth.user_id, request.client_id, ordered, ctx.clock.now())
        await audit.record(
            db, ctx.clock, "consent.given", user_id=auth.user_id, detail=request.client_id
        )
        await db.commit()


@dataclass(frozen=True)
class AllowedApp:
    client_id: str
    name: str
    scope: list[str]
    since: datetime


async def allowed_apps(ctx: OidcContext, user_id: int) -> list[AllowedApp]:
    async with ctx.db.session() as db:
        rows = await consent_rows.for_user(db, user_id)
    return [AllowedApp(o.client_id, o.name, c.scope.split(), c.created_at) for c, o in rows]


async def revoke(ctx: OidcContext, user_id: int, client_id: str) -> bool:
    async with ctx.db.session() as db:
        done = await consent_rows.revoke(db, user_id, client_id, ctx.clock.now())
        await audit.record(db, ctx.clock, "consent.revoked", user_id=user_id, detail=client_id)
        await db.commit()
    return done
