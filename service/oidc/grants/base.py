"""What every grant type shares: the registry entry's shape, the handler's signature, and the
issuing of tokens for a user (RFC 6749 section 5.1, OIDC Core 3.1.3.3).

A grant module exports one ``GrantType``. Its handler runs after client authentication and after
the token endpoint has checked that the client registered the grant type; it opens what it
writes with and commits it (repositories never commit). The hot grants (code, refresh) use the
driver's connection (``service.db.hot``); a handler never holds two connections at once (the
embedded default has one).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from service import audit
from service.db import clients as client_rows
from service.db import grants as grant_rows
from service.db import hot
from service.db.clients import StaleClient
from service.db.models import Grant, OAuthClient, Session, User
from service.oidc import tokens
from service.oidc.assurance.dpop import Proof
from service.oidc.context import OidcContext
from service.oidc.cors import is_browser_app
from service.oidc.errors import InvalidGrant, InvalidRequest, InvalidTarget, OAuthError
from service.oidc.groups import membership, needs_membership
from service.oidc.model import Authentication
from service.oidc.roles import roles_for

Response = dict[str, Any]
T = TypeVar("T")
# The request's checked DPoP proof (RFC 9449), or None: its key binds what is issued.
Handler = Callable[[OidcContext, OAuthClient, dict[str, str], Proof | None], Awaitable[Response]]


class Registering(Protocol):
    """What a grant's registration rule reads of a client being registered."""

    type: str
    grant_types: list[str]
    redirect_uris: list[str]


@dataclass(frozen=True)
class GrantType:
    """One grant type: its ``grant_type`` value, the token-request parameters it reads, its
    handler, whether new clients get it unless they say otherwise, the rule a client must
    meet to register it (a reason, or None), a short name operators may type for a URN, and
    whether its handler confirms the client row it was given."""

    name: str
    parameters: tuple[str, ...]
    handler: Handler
    registration_problem: Callable[[Registering], str | None]
    default: bool = False
    alias: str | None = None
    # Whatever its handler writes or reads is conditional on the client row's version
    # (``StaleClient`` otherwise), so the token endpoint may authenticate against a cached row.
    confirms_client: bool = False


async def resumable(
    step: Callable[[OAuthClient], Awaitable[Response]],
    client: OAuthClient,
    release: Callable[[], Awaitable[None]] | None = None,
) -> Response:
    """Run ``step``, the rest of a grant that has already consumed something single use (a
    code, a device's decision), so that if ``client`` turns out not to be the current row
    (``StaleClient``) the token endpoint carries on with ``step`` on the current one instead
    of running the grant again (which would find its code used), or calls ``release`` when
    the current row refuses the request."""
    try:
        return await step(client)
    except StaleClient as stale:
        stale.resume, stale.release = step, release
        raise


async def confirmed_refusal(ctx: OidcContext, client: OAuthClient, decided: Awaitable[T]) -> T:
    """Await ``decided``, a decision taken on ``client`` before anything is written. A refusal
    taken on a row the cache holds (``ctx.clients``) is confirmed with one read: when the row
    has changed since, ``StaleClient``, and the request is decided again on the current row
    (an app given access to an API, or opened to every group, a moment ago). Only refusals
    pay the read; what is granted is confirmed by the statement that writes it."""
    try:
        return await decided
    except OAuthError:
        if ctx.clients.holds(client):
            async with hot.connect(ctx.db) as conn:
                current = await client_rows.current_version(conn, client_pk(client))
            if current != client.version:
                raise StaleClient from None
        raise


def required(params: dict[str, str], name: str) -> str:
    value = params.get(name)
    if value is None:
        raise InvalidRequest(f"{name} is required")
    return value


def client_pk(client: OAuthClient) -> int:
    assert client.id is not None
    return client.id


def session_alive(
    ctx: OidcContext, session: Session | None, now: datetime, grant: Grant | None = None
) -> bool:
    """The browser session a grant hangs on still exists and has not expired: signing out (or
    "sign out everywhere") ends the apps' refresh tokens with it. A grant with
    ``offline_access`` (OIDC Core 11) does not hang on the session: it lasts until it expires
    or is revoked (the account page, a disabled account)."""
    if grant is not None and "offline_access" in grant.scope.split():
        return True
    if session is None:
        return False
    idle = timedelta(seconds=ctx.settings.session_idle_seconds)
    return now < session.expires_at and now < session.last_seen_at + idle


def user_active(user: User | None) -> bool:
    return user is not None and user.disabled_at is None


def refresh_expiry(
    ctx: OidcContext, client: OAuthClient, now: datetime, absolute: datetime
) -> datetime:
    """A refresh token lapses after the idle lifetime (shorter for a browser app, see
    ``service.oidc.cors``), and never outlives its grant."""
    return min(idle_expiry(ctx, client, now), absolute)


def idle_expiry(ctx: OidcContext, client: OAuthClient, now: datetime) -> datetime:
    """When a refresh token used now lapses unused (``refresh_expiry`` before the grant's end)."""
    settings = ctx.settings
    idle = settings.browser_refresh_idle_seconds if is_browser_app(client) else None
    return now + timedelta(seconds=idle or settings.refresh_idle_seconds)


async def revoke_family(
    ctx: OidcContext,
    gid: str,
    *,
    user_id: int | None,
    detail: str,
    ahead_for: OAuthClient | None = None,
) -> None:
    """Revoke every token of one grant and say why in the audit log (RFC 6749 4.1.2 for a code
    used twice, RFC 9700 4.14.2 for a refresh token reused). With ``ahead_for``, the grant may
    not be written yet (a code's first exchange still running): it is then written revoked
    first, for that client, kept as long as the code's tombstone (``grant_rows.revoke_ahead``)."""
    now = ctx.clock.now()
    async with ctx.db.session() as db:
        if ahead_for is None:
            await grant_rows.revoke_by_gid(db, gid, now)
        else:
            until = now + timedelta(seconds=ctx.settings.code_tombstone_seconds)
            await grant_rows.revoke_ahead(db, gid, client_pk(ahead_for), now, until)
        await audit.record(
            db, ctx.clock, "tokens.revoked", user_id=user_id, actor="system", detail=detail
        )
        await db.commit()


async def admitted_groups(
    ctx: OidcContext,
    client: OAuthClient,
    user_id: int,
    scope: tuple[str, ...],
    refusal: type[OAuthError] = InvalidGrant,
) -> tuple[str, ...]:
    """The person's group names (for the ``groups`` claim), after checking that an app which
    admits only some groups admits them: refused with ``refusal`` otherwise, before anything
    is written. Apps open to all that did not get the ``groups`` scope pay nothing."""
    if not needs_membership(client, scope):
        return ()

    async def decided() -> tuple[str, ...]:
        found = await membership(ctx, client_pk(client), client.group_restricted, user_id)
        if not found.admitted:
            raise refusal("the account is not in a group this app admits")
        return found.groups if "groups" in scope else ()

    return await confirmed_refusal(ctx, client, decided())


async def issue_for_user(ctx: OidcContext, grant: Grant, client: OAuthClient) -> User:
    """Write the grant of a person's tokens, and read that person, in one round trip on
    PostgreSQL; refused (nothing written) when the account is gone or disabled, and
    ``StaleClient`` when ``client`` is no longer the current row."""
    async with hot.connect(ctx.db) as conn:
        user = await grant_rows.issue_for_user(conn, grant, client)
    if user is None:
        raise InvalidGrant("the user account is not active")
    return user


def user_grant(
    ctx: OidcContext,
    client: OAuthClient,
    auth: Authentication,
    scope: tuple[str, ...],
    *,
    gid: str,
    now: datetime,
    resource: str | None = None,
    proof: Proof | None = None,
) -> tuple[Grant, tuple[str, str, bytes] | None]:
    """The grant row for tokens issued to a signed-in person, with a refresh token when the
    client registered that grant (``(token, lookup, hash)``; only the hash is stored). A
    public client's refresh token is bound to its DPoP key (RFC 9449 5); a confidential
    client's is bound to its authentication already."""
    refresh = (
        tokens.new_refresh_token(ctx) if "refresh_token" in client.grant_types.split() else None
    )
    lifetime = ctx.settings.refresh_max_seconds if refresh else ctx.settings.access_token_seconds
    expires_at = now + timedelta(seconds=lifetime)
    grant = hot.new_row(
        Grant,
        gid=gid,
        client_pk=client_pk(client),
        user_id=auth.user_id,
        sid=auth.sid,
        scope=" ".join(scope),
        resource=resource,
        auth_time=auth.auth_time,
        amr=" ".join(auth.amr),
        created_at=now,
        expires_at=expires_at,
        refresh_lookup=refresh[1] if refresh else None,
        refresh_hash=refresh[2] if refresh else None,
        refresh_expires_at=refresh_expiry(ctx, client, now, expires_at) if refresh else None,
        dpop_jkt=proof.jkt if proof and refresh and client.type == "public" else None,
    )
    return grant, refresh


def requested_resource(params: dict[str, str], granted: str | None) -> None:
    """RFC 8707 2.2: a token request may name the resource again, but only the one granted."""
    asked = params.get("resource")
    if asked is not None and asked != granted:
        raise InvalidTarget("resource differs from the one granted")


def bearer_response(ctx: OidcContext, access: str, scope: str, proof: Proof | None) -> Response:
    """RFC 6749 5.1: the access token part of a successful response; a DPoP-bound token's
    type is ``DPoP`` (RFC 9449 5)."""
    return {
        "access_token": access,
        "token_type": "DPoP" if proof else "Bearer",
        "expires_in": ctx.settings.access_token_seconds,
        "scope": scope,
    }


async def tokens_for_user(
    ctx: OidcContext,
    client: OAuthClient,
    grant: Grant,
    user: User,
    scope: tuple[str, ...],
    *,
    nonce: str | None,
    now: datetime,
    groups: tuple[str, ...] = (),
    proof: Proof | None = None,
    acr: str | None = None,
) -> Response:
    """An access token, and an ID token when ``openid`` was granted (OIDC Core 3.1.3.3), with
    the person's ``groups`` when that scope was granted (``admitted_groups``). A token for an
    API carries the person's roles there (one query, only then)."""
    assert user.id is not None
    roles = await roles_for(ctx, grant.resource, user.id) if grant.resource else None
    access = await tokens.access_token(
        ctx,
        client_id=client.client_id,
        subject=str(user.public_id),
        scope=" ".join(scope),
        gid=grant.gid,
        now=now,
        audience=grant.resource,
        roles=roles,
        jkt=proof.jkt if proof else None,
    )
    response = bearer_response(ctx, access, " ".join(scope), proof)
    if "openid" in scope:
        assert grant.auth_time is not None and grant.sid is not None
        response["id_token"] = await tokens.id_token(
            ctx,
            client=client,
            user=user,
            scope=scope,
            nonce=nonce,
            auth_time=grant.auth_time,
            amr=tuple(grant.amr.split()),
            sid=grant.sid,
            access=access,
            now=now,
            groups=groups,
            acr=acr,
        )
    return response
