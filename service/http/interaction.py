"""The hosted side of an authorization request: resume after sign-in, consent, cancel, and
RP-initiated logout."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from service.auth.sessions import end_session
from service.http.cookies import clear_cookie
from service.http.deps import BrowserId, Cookies, Csrf, Ctx, MaybeSession, check_csrf
from service.http.middleware import browser_of
from service.http.oidc import (
    Oidc,
    authentication,
    form_action_csp,
    request_pairs,
    see_other,
    step_response,
)
from service.http.render import page
from service.http.retry import RetryReadsRoute
from service.oidc import authorize, logout

router = APIRouter(route_class=RetryReadsRoute, include_in_schema=False)


@router.get("/interaction/{uid}")
async def resume(
    uid: str, request: Request, oidc: Oidc, session: MaybeSession, browser_id: BrowserId
) -> Response:
    step = await authorize.resume_authorization(oidc, uid, authentication(session), browser_id)
    return step_response(request, step, session)


@router.post("/interaction/{uid}/consent", dependencies=[Csrf])
async def consent(
    uid: str,
    decision: Annotated[str, Form(max_length=10)],
    request: Request,
    oidc: Oidc,
    session: MaybeSession,
    browser_id: BrowserId,
) -> Response:
    step = await authorize.resume_authorization(
        oidc, uid, authentication(session), browser_id, consent_given=decision == "allow"
    )
    return step_response(request, step, session)


@router.post("/interaction/{uid}/abort", dependencies=[Csrf])
async def abort(uid: str, oidc: Oidc, session: MaybeSession, browser_id: BrowserId) -> Response:
    raise await authorize.abandon_authorization(oidc, uid, browser_id, authentication(session))


@router.api_route("/logout", methods=["GET", "POST"])
async def logout_endpoint(
    request: Request, ctx: Ctx, oidc: Oidc, names: Cookies, session: MaybeSession
) -> Response:
    pairs = await request_pairs(request)
    wanted = await logout.validate_logout_request(oidc, pairs)
    confirmed = request.method == "POST" and dict(pairs).get("confirm") == "yes"
    if confirmed:
        # The confirmation form is ours: hold it to the same CSRF rule as every form.
        await check_csrf(request, ctx, browser_of(request.scope["state"]))
    elif wanted.confirmation_needed(session.sid if session else None):
        response = page(
            request, "logout.html", user=session.user if session else None, logout=wanted
        )
        response.headers["Content-Security-Policy"] = form_action_csp(
            wanted.post_logout_redirect_uri
        )
        return response
    await end_session(ctx, request.cookies.get(names.session))
    request.app.state.logouts.wake()  # apps are told in the background
    location = wanted.location()
    response = see_other(location) if location else page(request, "signed_out.html", logout=wanted)
    clear_cookie(response, names, names.session)
    return response
