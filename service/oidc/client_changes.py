"""Changing a registered client (``sesame clients update``, ``PATCH /admin/clients/{id}``):
every change under the same rules as registration (``service.oidc.clients``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from service import audit
from service.db import clients as client_rows
from service.db import groups as group_rows
from service.db.models import OAuthClient
from service.oidc.apis import check_api_access
from service.oidc.assurance import profile
from service.oidc.assurance.profile import Assurance
from service.oidc.client_links import dump_links, load_links
from service.oidc.clients import (
    ClientRejected,
    check_logout_uri,
    check_origins,
    check_redirects,
    checked_client_links,
    get_client,
)
from service.oidc.context import OidcContext
from service.oidc.groups import UnknownGroup, resolve_allowed


@dataclass
class ClientChanges:
    """What an operator may change on a registered client; None leaves a field as it is."""

    api_access: dict[str, list[str]] | None = None
    allowed_origins: list[str] | None = None
    backchannel_logout_uri: str | None = None
    redirect_uris: list[str] | None = None
    post_logout_redirect_uris: list[str] | None = None
    # Merged into the stored links; an empty value removes that link.
    links: dict[str, str] | None = None
    # Replaces the groups the app admits; [] opens it to everyone again.
    allowed_groups: list[str] | None = None
    # The client's keys, replaced whole (rotation): a JWK Set, or where it is published.
    jwks: dict[str, Any] | str | None = None
    jwks_uri: str | None = None


async def update_client(
    ctx: OidcContext, client_id: str, changes: ClientChanges, *, actor: str = "admin"
) -> OAuthClient | None:
    """Apply ``changes`` under the registration's own rules; None when there is no such
    client. Tokens already issued keep what they were issued with."""
    values: dict[str, Any] = {}
    if changes.backchannel_logout_uri is not None:
        check_logout_uri(changes.backchannel_logout_uri)
        values["backchannel_logout_uri"] = changes.backchannel_logout_uri
    if changes.allowed_origins is not None:
        check_origins(changes.allowed_origins)
        values["allowed_origins"] = " ".join(
            dict.fromkeys(o.lower() for o in changes.allowed_origins)
        )
    if changes.api_access is not None:
        problem = await check_api_access(ctx, changes.api_access)
        if problem:
            raise ClientRejected(problem)
        values["api_access"] = json.dumps(
            {k: list(dict.fromkeys(v)) for k, v in changes.api_access.items()}
        )
    group_pks = None
    if changes.allowed_groups is not None:
        group_pks = await resolve_allowed(ctx, changes.allowed_groups)
    async with ctx.db.session() as db:
        row = await client_rows.by_client_id(db, client_id)
        if row is None:
            return None
        assert row.id is not None
        values.update(_new_uris(row, changes))
        await client_rows.update_fields(db, row.id, **values)
        if group_pks is not None:
            await group_rows.set_allowed(db, row.id, group_pks)
        await audit.record(
            db, ctx.clock, "client.updated", user_id=None, actor=actor, detail=client_id
        )
        try:
            await db.commit()
        except IntegrityError as exc:  # a group deleted meanwhile (foreign key)
            raise UnknownGroup("a group named was deleted meanwhile; try again") from exc
    return await get_client(ctx, client_id)


def _new_uris(row: OAuthClient, changes: ClientChanges) -> dict[str, Any]:
    """The redirect URIs and links ``changes`` sets, checked under the client's type."""
    values: dict[str, Any] = {}
    public = row.type == "public"
    if changes.redirect_uris is not None:
        if not changes.redirect_uris:
            raise ClientRejected("redirect URI: at least one")
        check_redirects("redirect URI", changes.redirect_uris, public)
        values["redirect_uris"] = " ".join(dict.fromkeys(changes.redirect_uris))
    if changes.post_logout_redirect_uris is not None:
        uris = changes.post_logout_redirect_uris
        check_redirects("post-logout redirect URI", uris, public)
        values["post_logout_redirect_uris"] = " ".join(dict.fromkeys(uris))
    if changes.links is not None:
        merged = {**load_links(row.links), **changes.links}
        values["links"] = dump_links(checked_client_links(merged))
    if changes.jwks is not None or changes.jwks_uri is not None:
        keys = Assurance(
            auth_method=row.auth_method,
            jwks=changes.jwks,
            jwks_uri=changes.jwks_uri or "",
            dpop_bound=row.dpop_bound,
            profile=row.profile,
        )
        try:
            checked = profile.columns(keys, row.type, row.id_token_alg)
        except ValueError as exc:
            raise ClientRejected(str(exc)) from None
        values.update(jwks=checked["jwks"], jwks_uri=checked["jwks_uri"])
    return values
