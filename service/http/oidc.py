"""OpenID Connect endpoints: thin adapters over ``service.oidc``.

Protocol errors become responses in ``service.http.errors`` (RFC 6749 JSON on the back-channel
endpoints, a redirect to the client once its redirect URI is known good, a page otherwise).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from service.auth.sessions import CurrentSession
from service.http.back_channel import NO_STORE, BackChannel, back_channel_response, presented
from service.http.deps import BrowserId, MaybeSession, client_address
from service.http.errors import is_outage
from service.http.failure_gate import FailureGate, presented_client_id
from service.http.middleware import CSP
from service.http.render import page
from service.http.retry import RetryReadsRoute
from service.oidc import authorize, discovery, introspection, par, revocation, token, userinfo
from service.oidc.authorize import Step
from service.oidc.context import OidcContext
from service.oidc.errors import ErrorRedirect, TemporarilyUnavailable
from service.oidc.model import Authentication
from service.text import split_url

router = APIRouter(route_class=RetryReadsRoute, tags=["OpenID Connect"])


async def get_oidc(request: Request) -> OidcContext:
    oidc: OidcContext = request.app.state.oidc
    return oidc


Oidc = Annotated[OidcContext, Depends(get_oidc)]


def authentication(session: CurrentSession | None) -> Authentication | None:
    """The hand-over from the hosted sign-in to the protocol."""
    if session is None:
        return None
    assert session.user.id is not None
    return Authentication(
        user_id=session.user.id,
        subject=str(session.user.public_id),
        auth_time=session.auth_time,
        amr=tuple(session.amr),
        sid=session.sid,
    )


def form_action_csp(*targets: str | None, base: str | None = None) -> str:
    """CSP for a page whose form POST ends in a redirect to the app: Chromium applies
    ``form-action`` to the redirect too, so the app's origin must be listed. ``base``: the
    page's own policy (one that admits the app's logo), else the default."""
    origins = []
    for target in targets:
        if target:
            parts = split_url(target)
            if parts is None:
                continue
            # A private-use scheme (a native app) is allowed as a scheme-source.
            origins.append(
                f"{parts.scheme}://{parts.netloc}" if parts.netloc else f"{parts.scheme}:"
            )
    allowed = " ".join(["'self'", *origins])
    return (base or CSP).replace("form-action 'self'", f"form-action {allowed}")


def see_other(url: str) -> RedirectResponse:
    # 303: after a POST the browser follows with a GET and never re-sends the form (RFC 9700
    # 4.12), and an authorization response never carries credentials onwards.
    return RedirectResponse(url, status_code=303)


def step_response(request: Request, step: Step, session: CurrentSession | None) -> Response:
    """The consent page names who is signed in ("Signed in as Ada, not you?"); so does the page
    that says the account may not enter the app (403), whose way back tells the app
    ``access_denied``."""
    if step.kind == "done":
        return see_other(step.location)
    if step.kind == "login":
        return see_other(f"/signin?interaction={step.interaction}")
    response = page(
        request,
        "no_access.html" if step.kind == "denied" else "consent.html",
        status_code=403 if step.kind == "denied" else 200,
        request_=step.request,
        interaction=step.interaction,
        user=session.user if session else None,
        app_name=step.request.client_name,
        app_links=step.request.client_links,
        ui_locales=step.request.ui_locales,
    )
    response.headers["Content-Security-Policy"] = form_action_csp(
        step.request.redirect_uri, base=response.headers.get("Content-Security-Policy")
    )
    return response


async def request_pairs(request: Request) -> list[tuple[str, str]]:
    if request.method == "POST":
        form = await request.form()
        return [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    return list(request.query_params.multi_items())


@router.get("/authorize")
@router.post("/authorize")
async def authorize_endpoint(
    request: Request, oidc: Oidc, session: MaybeSession, browser_id: BrowserId
) -> Response:
    """OIDC Core 3.1.2.1: GET and POST (form) both accepted."""
    validated = await authorize.validate_authorization_request(oidc, await request_pairs(request))
    try:
        step = await authorize.begin_authorization(
            oidc, validated, authentication(session), browser_id
        )
    except Exception as exc:
        if not is_outage(exc):
            raise
        # The redirect URI is known good by now: the app hears the outage (RFC 6749 4.1.2.1).
        error = TemporarilyUnavailable("Sesame's storage is unavailable; try again shortly")
        raise ErrorRedirect(error, validated.redirect_uri, validated.state) from exc
    return step_response(request, step, session)


async def back_channel(request: Request, oidc: OidcContext, handle: BackChannel) -> Response:
    """A client-authenticated form POST (RFC 6749 2.3 and 3.2): the form's pairs and the
    Authorization header in, JSON out, never cached (RFC 6749 5.1). A form POST to /token,
    /revoke or /introspect is answered before routing (``service.http.back_channel``); this
    route serves the rest (another body, the device authorization endpoint)."""
    pairs = await request_pairs(request)
    shown = presented(request.scope)
    gate: FailureGate = request.app.state.failure_gate
    body = await gate.guard(
        client_address(request),
        lambda: presented_client_id(pairs, shown.authorization),
        lambda: handle(oidc, pairs, shown),
    )
    return back_channel_response(body)


@router.post("/token")
async def token_endpoint(request: Request, oidc: Oidc) -> Response:
    return await back_channel(request, oidc, token.handle_token_request)


@router.get("/userinfo")
@router.post("/userinfo")
async def userinfo_endpoint(request: Request, oidc: Oidc) -> Response:
    form_token = None
    if request.method == "POST" and request.headers.get("content-type", "").startswith(
        "application/x-www-form-urlencoded"
    ):
        field = (await request.form()).get("access_token")
        form_token = field if isinstance(field, str) else None
    token, scheme = userinfo.presented_token(request.headers.get("authorization"), form_token)
    proofs = tuple(request.headers.getlist("dpop"))
    claims = await userinfo.userinfo(oidc, token, scheme, proofs, request.method)
    return JSONResponse(claims, headers=NO_STORE)


@router.post("/revoke")
async def revoke_endpoint(request: Request, oidc: Oidc) -> Response:
    return await back_channel(request, oidc, revocation.revoke)


@router.post("/introspect")
async def introspect_endpoint(request: Request, oidc: Oidc) -> Response:
    return await back_channel(request, oidc, introspection.introspect)


@router.post("/par", status_code=201)
async def par_endpoint(request: Request, oidc: Oidc) -> Response:
    """RFC 9126: push an authorization request; the answer's ``request_uri`` then goes to
    ``/authorize`` with the ``client_id``."""
    return await back_channel(request, oidc, par.push)


@router.get("/.well-known/openid-configuration")
async def discovery_endpoint(oidc: Oidc) -> Response:
    body: dict[str, Any] = discovery.provider_metadata(oidc.settings)
    return JSONResponse(
        body,
        # CORS only for registered origins (service.http.cors), like every back-channel answer.
        headers={"Cache-Control": "public, max-age=3600"},
    )


@router.get("/.well-known/oauth-authorization-server")
async def oauth_metadata_endpoint(oidc: Oidc) -> Response:
    """RFC 8414 3: the same metadata at the OAuth well-known path."""
    return await discovery_endpoint(oidc)


@router.get("/jwks.json")
async def jwks_endpoint(oidc: Oidc) -> Response:
    # Cached no longer than a rotation waits before signing with a new key, so relying apps
    # always hold a key before they meet a token signed with it.
    max_age = oidc.settings.signing_key_cache_seconds
    return JSONResponse(
        await oidc.signer.jwks(),
        headers={"Cache-Control": f"public, max-age={max_age}"},
        media_type="application/jwk-set+json",
    )
