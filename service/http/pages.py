"""The hosted pages: sign in, sign up, account, sign out."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response

from service import audit
from service.auth import account, invitations
from service.auth.errors import AuthError
from service.auth.names import browser_label
from service.auth.providers import provider
from service.auth.sessions import end_all_sessions, end_session
from service.codec import b64url_encode
from service.http.cookies import clear_cookie
from service.http.deps import BrowserId, Cookies, Csrf, Ctx, MaybeSession, SignedIn, safe_next
from service.http.oidc import Oidc
from service.http.render import WEB_DIR, page
from service.http.retry import RetryReadsRoute
from service.i18n import N_
from service.oidc import consent, interactions
from service.oidc.assurance import acr
from service.oidc.context import OidcContext

router = APIRouter(route_class=RetryReadsRoute, include_in_schema=False)

NOTICES = {
    "welcome": N_("Welcome! Your account and its first passkey are ready."),
    "added": N_("Passkey added."),
    "renamed": N_("Passkey renamed."),
    "deleted": N_("Passkey deleted."),
    "app-revoked": N_("Access removed. The app has to ask again next time."),
    "email-signin": N_("Signed in with your email link."),
    "confirmed": N_("Confirmed. You can now make sensitive changes for a few minutes."),
    "email-confirmed": N_("Your email address is confirmed."),
    "email-sent": N_("We sent a new confirmation link and code."),
    "email-change-sent": N_("We sent a link and a code to the new address. Use one to finish."),
}


def _see_other(url: str) -> RedirectResponse:
    # 303 so the browser follows a form POST with a GET (never 307, which would repost).
    return RedirectResponse(url, status_code=303)


@router.get("/")
async def home(session: MaybeSession) -> Response:
    return _see_other("/account" if session else "/signin")


@router.get("/favicon.ico")
async def favicon() -> Response:
    """Browsers ask for it on every site; pages name the SVG (``base.html``)."""
    return FileResponse(
        WEB_DIR / "static" / "favicon.ico",
        media_type="image/x-icon",
        headers={"Cache-Control": "public, max-age=86400"},
    )


@router.get("/.well-known/webauthn", include_in_schema=False)
async def related_origins(ctx: Ctx) -> Response:
    """WebAuthn L3 5.11.1: the origins that may use this RP ID's passkeys
    (``SESAME_RELATED_ORIGINS``); 404 when there are none. Served where the RP ID's host
    reaches Sesame (the issuer's host by default)."""
    origins = ctx.settings.related_origins
    if not origins:
        return Response(status_code=404)
    return JSONResponse({"origins": origins}, headers={"Cache-Control": "public, max-age=3600"})


async def _for_app(oidc: OidcContext, uid: str | None, browser_id: str) -> dict[str, Any]:
    """When an app sent the person here: its name, the login hint, and where to go after."""
    if uid is None:
        return {}
    parked = await interactions.load(oidc, uid, browser_id)
    return {
        "interaction": uid,
        "app_name": parked.request.client_name,
        "app_links": parked.request.client_links,
        "ui_locales": parked.request.ui_locales,
        "login_hint": parked.request.login_hint,
        "next": f"/interaction/{uid}",
        # The app asked for a passkey-level sign-in (service.oidc.assurance.acr).
        "passkey_required": acr.needs_passkey(parked.request.acr_values),
    }


@router.get("/signin")
async def signin_page(
    request: Request,
    ctx: Ctx,
    oidc: Oidc,
    names: Cookies,
    session: MaybeSession,
    browser_id: BrowserId,
    next: str | None = None,
    interaction: str | None = None,
) -> Response:
    target = safe_next(next)
    # An app's request that needs a (fresh) sign-in shows the form even to a signed-in person.
    if session and interaction is None:
        return _see_other(target)
    returning = await account.returning_user(ctx, request.cookies.get(names.last_user))
    app = await _for_app(oidc, interaction, browser_id)
    # Sent here from a page that needs a session (``?next=``): say so, instead of a bare form.
    sent_from = target if next is not None and interaction is None else None
    return page(
        request,
        "signin.html",
        returning=returning,
        sent_from=sent_from,
        signup_open=ctx.settings.signup == "open",
        **{"next": target, **app},
    )


@router.get("/signup")
async def signup_page(
    request: Request,
    ctx: Ctx,
    oidc: Oidc,
    session: MaybeSession,
    browser_id: BrowserId,
    interaction: str | None = None,
    invitation: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    """With an invitation link's token: the form for that address (an unusable link is a
    page saying so). Without one, when ``SESAME_SIGNUP`` is not ``open``: why not (403)."""
    if invitation is not None and ctx.settings.signup != "closed":
        invited = await invitations.pending(ctx, invitation)
        return page(request, "signup.html", invitation=invitation, invited_email=invited.email)
    if session and interaction is None and invitation is None:
        return _see_other("/account")
    app = await _for_app(oidc, interaction, browser_id)
    if ctx.settings.signup != "open":
        return page(request, "signup.html", status_code=403, signup_mode=ctx.settings.signup, **app)
    return page(request, "signup.html", **app)


def _where_used(signins: list[dict[str, Any]]) -> dict[int, str]:
    """Each passkey's last sign-in (newest first in ``signins``): browser and address."""
    where: dict[int, str] = {}
    for event in signins:
        kind, _, pk = event["detail"].partition(":")
        if kind == "passkey" and pk.isdigit() and int(pk) not in where:
            label = browser_label(event["user_agent"])
            where[int(pk)] = f"{label}, {event['ip']}" if event["ip"] else label
    return where


async def render_account(
    request: Request, ctx: Ctx, session: SignedIn, *, error: AuthError | None = None
) -> Response:
    passkeys = await account.list_passkeys(ctx, session.user)
    assert session.user.id is not None
    apps = await consent.allowed_apps(request.app.state.oidc, session.user.id)
    activity = await audit.search(ctx.db, user_id=session.user.id, limit=10)
    used = await audit.search(ctx.db, user_id=session.user.id, kind="signin.passkey", limit=100)
    notice = NOTICES.get(request.query_params.get("done", ""))
    return page(
        request,
        "account.html",
        status_code=error.status_code if error else 200,
        user=session.user,
        passkeys=passkeys,
        providers={pk.id: provider(pk.aaguid) for pk in passkeys},
        used_where=_where_used(used),
        apps=apps,
        activity=activity,
        notice=notice,
        notice_key=request.query_params.get("done", ""),
        email_session="passkey" not in session.amr,
        passkey_recent=session.passkey_recent(ctx.clock.now(), ctx.settings.step_up_seconds),
        deletion_allowed=ctx.settings.account_deletion,
        error=error,
        # WebAuthn Signal API (sesame.js): keeps the person's passkey provider in step with
        # what this account accepts, and with the account's current names.
        signals={
            "rp-id": ctx.settings.rp_id,
            "user-id": b64url_encode(session.user.public_id.bytes),
            "credential-ids": " ".join(b64url_encode(pk.credential_id) for pk in passkeys),
            "username": session.user.username,
            "display-name": session.user.name or session.user.username,
        },
    )


@router.get("/account")
async def account_page(request: Request, ctx: Ctx, session: SignedIn) -> Response:
    return await render_account(request, ctx, session)


@router.post("/account/passkeys/{credential_pk}/rename", dependencies=[Csrf])
async def rename_passkey(
    request: Request,
    credential_pk: int,
    name: Annotated[str, Form(max_length=200)],
    ctx: Ctx,
    session: SignedIn,
) -> Response:
    try:
        await account.rename_passkey(ctx, session.user, credential_pk, name)
    except AuthError as exc:
        return await render_account(request, ctx, session, error=exc)
    return _see_other("/account?done=renamed")


@router.post("/account/passkeys/{credential_pk}/delete", dependencies=[Csrf])
async def delete_passkey(
    request: Request, credential_pk: int, ctx: Ctx, session: SignedIn
) -> Response:
    try:
        await account.delete_passkey(ctx, session, credential_pk)
    except AuthError as exc:
        return await render_account(request, ctx, session, error=exc)
    return _see_other("/account?done=deleted")


@router.post("/account/apps/{client_id}/revoke", dependencies=[Csrf])
async def revoke_app(client_id: str, oidc: Oidc, session: SignedIn) -> Response:
    assert session.user.id is not None
    await consent.revoke(oidc, session.user.id, client_id)
    return _see_other("/account?done=app-revoked")


@router.post("/account/signout-everywhere", dependencies=[Csrf])
async def signout_everywhere(
    request: Request, ctx: Ctx, names: Cookies, session: SignedIn
) -> Response:
    await end_all_sessions(ctx, session.user)
    request.app.state.logouts.wake()  # apps are told in the background
    response = _see_other("/signin")
    clear_cookie(response, names, names.session)
    return response


@router.post("/signout", dependencies=[Csrf])
async def signout(request: Request, ctx: Ctx, names: Cookies) -> Response:
    await end_session(ctx, request.cookies.get(names.session))
    request.app.state.logouts.wake()  # apps are told in the background
    response = _see_other("/signin")
    clear_cookie(response, names, names.session)
    return response


@router.post("/signin/forget", dependencies=[Csrf])
async def forget_me(names: Cookies) -> Response:
    response = _see_other("/signin")
    clear_cookie(response, names, names.last_user)
    return response
