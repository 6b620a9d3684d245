"""The authorization endpoint (OIDC Core 3.1.2, RFC 6749 4.1.1), as two steps.

``validate_authorization_request`` runs the checks in ``service.oidc.checks`` in their order:
the client and its redirect URI first (errors shown to the person, never redirected), then every
other rule (errors sent to the validated redirect URI with ``state`` and ``iss``).

``begin_authorization`` then either answers at once (a code, or for ``prompt=none`` an error) or
parks the request as an interaction until the person has signed in or consented; the hosted
pages call ``resume_authorization`` afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from service.oidc import codes, consent, groups, interactions, par
from service.oidc.assurance import acr, request_object
from service.oidc.checks import CHECKS, Draft
from service.oidc.context import OidcContext
from service.oidc.errors import (
    AccessDenied,
    ConsentRequired,
    ErrorRedirect,
    LoginRequired,
    OAuthError,
)
from service.oidc.model import Authentication, AuthorizationRequest
from service.oidc.params import single_values


async def validate_authorization_request(
    ctx: OidcContext,
    pairs: Iterable[tuple[str, str]],
    *,
    pushed: bool = False,
    proof_jkt: str | None = None,
) -> AuthorizationRequest:
    """Run ``checks.CHECKS`` in order. An error the client may hear of goes to its redirect URI
    once that is validated; any other is shown to the person (RFC 6749 4.1.2.1). A request
    naming a ``request_uri`` from ``/par`` is the request pushed there (RFC 9126 4); one with a
    signed ``request`` object is that object's (RFC 9101)."""
    if not pushed:
        pairs = list(pairs)
        pulled = await par.pushed_request(ctx, pairs)
        if pulled is not None:
            pairs, pushed = pulled, True
        else:
            pairs = await request_object.unpacked(ctx, pairs)
    params, repeated = single_values(pairs)
    draft = Draft(ctx, params, repeated, pushed=pushed, proof_jkt=proof_jkt)
    try:
        for check in CHECKS:
            await check(draft)
    except OAuthError as exc:
        if not exc.redirectable or draft.redirect_uri is None:
            raise
        raise ErrorRedirect(exc, draft.redirect_uri, draft.redirect_state()) from exc
    return draft.request()


Need = Literal["login", "denied", "consent"] | None


async def _need(
    ctx: OidcContext,
    request: AuthorizationRequest,
    auth: Authentication | None,
    *,
    started_at: datetime,
    consented: bool,
) -> Need:
    """What still stands between this request and a code."""
    if auth is None:
        return "login"
    if request.hint_subject is not None and request.hint_subject != auth.subject:
        return "login"
    # A sign-in completed during this interaction satisfies prompt=login and any max_age.
    fresh = auth.auth_time >= started_at
    if not fresh and ({"login", "select_account"} & set(request.prompt)):
        return "login"
    if (
        not fresh
        and request.max_age is not None
        and ctx.clock.now() > auth.auth_time + timedelta(seconds=request.max_age)
    ):
        return "login"
    if not acr.satisfied(request.acr_values, auth.amr):
        return "login"  # a passkey sign-in steps the session up (assurance.acr)
    if request.group_restricted and not await admitted(ctx, request, auth):
        return "denied"
    if request.first_party or consented:
        return None
    if "consent" in request.prompt or not await consent.covers(ctx, auth, request):
        return "consent"
    return None


@dataclass(frozen=True)
class Step:
    """What the hosted pages do next: sign in, say the account may not enter this app (the
    page's way back carries ``access_denied``), ask consent, or go back to the app."""

    kind: Literal["login", "denied", "consent", "done"]
    request: AuthorizationRequest
    interaction: str = ""
    location: str = ""


async def begin_authorization(
    ctx: OidcContext,
    request: AuthorizationRequest,
    auth: Authentication | None,
    browser_id: str,
) -> Step:
    now = ctx.clock.now()
    need = await _need(ctx, request, auth, started_at=now, consented=False)
    if "none" in request.prompt and need is not None:
        # OIDC Core 3.1.2.6: no UI may be shown; tell the client what would have been needed.
        error: OAuthError = (
            LoginRequired("the user is not signed in (or must sign in again)")
            if need == "login"
            else AccessDenied(NOT_ADMITTED)
            if need == "denied"
            else ConsentRequired("the user has not consented to this client")
        )
        raise ErrorRedirect(error, request.redirect_uri, request.state)
    if need is None:
        assert auth is not None
        return Step("done", request, location=await codes.issue_code(ctx, request, auth))
    uid = await interactions.park(ctx, request, browser_id, started_at=now)
    return Step(need, request, interaction=uid)


async def resume_authorization(
    ctx: OidcContext,
    uid: str,
    auth: Authentication | None,
    browser_id: str,
    *,
    consent_given: bool | None = None,
) -> Step:
    """Continue a parked request after sign-in (or with the person's consent decision)."""
    parked = await interactions.load(ctx, uid, browser_id)
    request = parked.request
    if consent_given is False:
        await interactions.take(ctx, uid, browser_id)
        raise ErrorRedirect(AccessDenied("the user declined"), request.redirect_uri, request.state)
    consented = parked.consented
    if consent_given and auth is not None:
        await consent.remember(ctx, auth, request)
        consented = True
        await interactions.mark_consented(ctx, uid, parked)
    need = await _need(ctx, request, auth, started_at=parked.started_at, consented=consented)
    if need is not None:
        return Step(need, request, interaction=uid)
    await interactions.take(ctx, uid, browser_id)
    assert auth is not None
    return Step("done", request, location=await codes.issue_code(ctx, request, auth))


async def abandon_authorization(
    ctx: OidcContext, uid: str, browser_id: str, auth: Authentication | None = None
) -> ErrorRedirect:
    """The person chose to go back to the app without signing in, or after being told their
    account may not enter it (the app hears which)."""
    await interactions.load(ctx, uid, browser_id)
    parked = await interactions.take(ctx, uid, browser_id)
    request = parked.request
    refused = (
        auth is not None
        and request.group_restricted
        and not await admitted(ctx, request, auth, record=False)
    )
    reason = NOT_ADMITTED if refused else "the user cancelled the sign-in"
    return ErrorRedirect(AccessDenied(reason), request.redirect_uri, request.state)


NOT_ADMITTED = "the account is not in a group this app admits"


async def admitted(
    ctx: OidcContext, request: AuthorizationRequest, auth: Authentication, *, record: bool = True
) -> bool:
    """Whether an app that admits only some groups admits this person (service.oidc.groups);
    a refusal goes in the audit trail, for the operator asked "why can't I get in?"."""
    found = await groups.membership_by_client_id(ctx, request.client_id, auth.user_id)
    if record and not found.admitted:
        await groups.record_refusal(ctx, request.client_id, auth.user_id)
    return found.admitted
