"""Parked authorization requests ("interactions"), in the ephemeral store.

An interaction is bound to the browser that started it (keyed hash of the browser-id cookie):
its id in a URL is useless in another browser, so nobody can finish someone else's request
or slip theirs into another person's session. It expires (stored ``expires_at``, checked against
the clock, and a store TTL), and is consumed atomically when its code is issued, so one request
yields one code.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from service.keys.keyed import new_token
from service.oidc.context import OidcContext
from service.oidc.errors import InteractionGone, OAuthError
from service.oidc.model import AuthorizationRequest


@dataclass(frozen=True)
class Interaction:
    request: AuthorizationRequest
    started_at: datetime
    expires_at: datetime
    browser: str
    consented: bool = False

    def dumps(self) -> bytes:
        return json.dumps(
            {
                "request": self.request.to_dict(),
                "started_at": self.started_at.isoformat(),
                "expires_at": self.expires_at.isoformat(),
                "browser": self.browser,
                "consented": self.consented,
            }
        ).encode()

    @classmethod
    def loads(cls, raw: bytes) -> Interaction:
        data = json.loads(raw)
        return cls(
            request=AuthorizationRequest.from_dict(data["request"]),
            started_at=datetime.fromisoformat(data["started_at"]),
            expires_at=datetime.fromisoformat(data["expires_at"]),
            browser=data["browser"],
            consented=data["consented"],
        )


def _key(uid: str) -> str:
    return f"interaction:{uid}"


def _browser(ctx: OidcContext, browser_id: str) -> str:
    return ctx.keys.hash_hex("interaction-browser", browser_id)


async def park(
    ctx: OidcContext, request: AuthorizationRequest, browser_id: str, *, started_at: datetime
) -> str:
    uid = new_token(16)
    ttl = ctx.settings.interaction_seconds
    parked = Interaction(
        request=request,
        started_at=started_at,
        expires_at=started_at + timedelta(seconds=ttl),
        browser=_browser(ctx, browser_id),
    )
    await ctx.store.put(_key(uid), parked.dumps(), ttl)
    return uid


def _check(ctx: OidcContext, raw: bytes | None, browser_id: str) -> Interaction:
    if raw is None:
        raise InteractionGone("This sign-in request has expired or was already completed.")
    parked = Interaction.loads(raw)
    if not hmac.compare_digest(parked.browser, _browser(ctx, browser_id)):
        raise InteractionGone("This sign-in request was started in another browser.")
    if ctx.clock.now() >= parked.expires_at:
        raise InteractionGone("This sign-in request has expired.")
    return parked


async def load(ctx: OidcContext, uid: str, browser_id: str) -> Interaction:
    if not uid or len(uid) > 64:
        raise InteractionGone("This sign-in request does not exist.")
    return _check(ctx, await ctx.store.get(_key(uid)), browser_id)


async def mark_consented(ctx: OidcContext, uid: str, parked: Interaction) -> None:
    remaining = int((parked.expires_at - ctx.clock.now()).total_seconds())
    updated = Interaction(
        parked.request, parked.started_at, parked.expires_at, parked.browser, consented=True
    )
    await ctx.store.put(_key(uid), updated.dumps(), max(remaining, 1))


async def choose_language(ctx: OidcContext, uid: str, browser_id: str, locale: str) -> None:
    """The person picked a language on this request's pages: it replaces the app's
    ``ui_locales`` for the rest of it. Nothing happens when it is gone or not this browser's."""
    try:
        parked = await load(ctx, uid, browser_id)
    except OAuthError:
        return
    remaining = int((parked.expires_at - ctx.clock.now()).total_seconds())
    request = replace(parked.request, ui_locales=locale)
    updated = Interaction(
        request, parked.started_at, parked.expires_at, parked.browser, parked.consented
    )
    await ctx.store.put(_key(uid), updated.dumps(), max(remaining, 1))


async def take(ctx: OidcContext, uid: str, browser_id: str) -> Interaction:
    """Atomic: of two tabs finishing the same interaction, one gets it."""
    return _check(ctx, await ctx.store.take(_key(uid)), browser_id)


async def rebind(ctx: OidcContext, uid: str, old_browser_id: str, new_browser_id: str) -> None:
    """The browser id rotates at sign-in; a request parked under the old id follows it.
    Looked at first (another browser's is left alone), then taken and put back, so it can
    never exist under both ids at once. Nothing happens when it is gone or not this browser's:
    the resume page then says so."""
    try:
        _check(ctx, await ctx.store.get(_key(uid)), old_browser_id)
        parked = _check(ctx, await ctx.store.take(_key(uid)), old_browser_id)
    except InteractionGone:
        return
    moved = Interaction(
        parked.request,
        parked.started_at,
        parked.expires_at,
        _browser(ctx, new_browser_id),
        parked.consented,
    )
    remaining = int((parked.expires_at - ctx.clock.now()).total_seconds())
    await ctx.store.put(_key(uid), moved.dumps(), max(remaining, 1))
