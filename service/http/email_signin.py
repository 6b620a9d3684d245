"""Sign-in by email: ask for a link, the confirm page behind the link, the code form."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from service.auth import email_signin
from service.auth.context import AuthContext
from service.auth.errors import AuthError, RateLimited
from service.db.models import User
from service.http.cookies import CookieNames
from service.http.deps import (
    BrowserId,
    Cookies,
    Csrf,
    Ctx,
    browser_facts,
    client_address,
    safe_next,
)
from service.http.oidc import see_other
from service.http.render import page
from service.http.retry import RetryReadsRoute
from service.http.signed_in import finish_sign_in

router = APIRouter(route_class=RetryReadsRoute, include_in_schema=False)


def _refused(request: Request, template: str, exc: AuthError, **context: object) -> Response:
    response = page(request, template, status_code=exc.status_code, error=exc, **context)
    if isinstance(exc, RateLimited):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


async def _signed_in(
    request: Request,
    ctx: AuthContext,
    names: CookieNames,
    user: User,
    token: str,
    next_path: str | None,
) -> Response:
    target = safe_next(next_path, "/account?done=email-signin")
    return await finish_sign_in(request, see_other(target), ctx, names, user, token, target)


@router.post("/signin/email", dependencies=[Csrf])
async def request_link(
    request: Request,
    email: Annotated[str, Form(max_length=320)],
    ctx: Ctx,
    browser_id: BrowserId,
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """The same page whether or not the address has an account."""
    client_ip = client_address(request) or "unknown"
    try:
        await email_signin.request_signin_link(
            ctx, browser_id, email, client_ip, safe_next(next) if next else None
        )
    except AuthError as exc:
        return _refused(request, "signin.html", exc, email=email, next=safe_next(next))
    return page(request, "email_sent.html", sent=True)


@router.post("/signin/email/code", dependencies=[Csrf])
async def enter_code(
    request: Request,
    code: Annotated[str, Form(max_length=20)],
    ctx: Ctx,
    names: Cookies,
    browser_id: BrowserId,
) -> Response:
    try:
        user, token, next_path = await email_signin.finish_with_code(
            ctx, code, browser_id, **browser_facts(request, names)
        )
    except AuthError as exc:
        return _refused(request, "email_sent.html", exc)
    return await _signed_in(request, ctx, names, user, token, next_path)


@router.get("/signin/email/{token}")
async def confirm_page(request: Request, token: str, ctx: Ctx, browser_id: BrowserId) -> Response:
    """Opening the link changes nothing (mail scanners open links): it shows a button."""
    try:
        pending = await email_signin.link_for_browser(ctx, token, browser_id)
    except AuthError as exc:
        return _refused(request, "error.html", exc, message=exc)
    return page(
        request,
        "email_confirm.html",
        token=token,
        who=pending.user.username,
        same_browser=pending.same_browser,
    )


@router.post("/signin/email/{token}", dependencies=[Csrf])
async def confirm(
    request: Request, token: str, ctx: Ctx, names: Cookies, browser_id: BrowserId
) -> Response:
    try:
        user, session_token, next_path = await email_signin.finish_with_link(
            ctx, token, browser_id, **browser_facts(request, names)
        )
    except AuthError as exc:
        return _refused(request, "error.html", exc, message=exc)
    return await _signed_in(request, ctx, names, user, session_token, next_path)
