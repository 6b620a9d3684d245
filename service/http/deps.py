"""FastAPI dependencies: the app's context, the browser id, the session, CSRF."""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.exceptions import HTTPException

from service.auth.context import AuthContext
from service.auth.errors import CsrfFailed, NotSignedIn
from service.auth.sessions import CurrentSession, resolve_session
from service.codec import bearer_credential
from service.http.cookies import CookieNames
from service.http.middleware import browser_of
from service.i18n import negotiate, use_locale
from service.text import split_url


def require_bearer(request: Request, expected: str, what: str) -> None:
    """An operator token (admin API, metrics) in ``Authorization: Bearer``, compared in constant
    time; 401 otherwise."""
    given = bearer_credential(request.headers.get("authorization")) or ""
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(401, f"{what} required")


def client_address(request: Request) -> str:
    """The client's address (behind trusted proxies, the forwarded one): rate-limit budgets."""
    return request.client.host if request.client else ""


async def get_ctx(request: Request) -> AuthContext:
    ctx: AuthContext = request.app.state.ctx
    return ctx


async def get_cookie_names(request: Request) -> CookieNames:
    names: CookieNames = request.app.state.cookies
    return names


async def get_browser_id(request: Request) -> str:
    return browser_of(request.scope["state"])


Ctx = Annotated[AuthContext, Depends(get_ctx)]
Cookies = Annotated[CookieNames, Depends(get_cookie_names)]
BrowserId = Annotated[str, Depends(get_browser_id)]


async def get_session(request: Request, ctx: Ctx, names: Cookies) -> CurrentSession | None:
    session = await resolve_session(ctx, request.cookies.get(names.session))
    if session is not None:
        request.state.user_id = str(session.user.public_id)  # for the access log
    return session


MaybeSession = Annotated[CurrentSession | None, Depends(get_session)]


async def require_session(session: MaybeSession) -> CurrentSession:
    if session is None:
        raise NotSignedIn()
    return session


SignedIn = Annotated[CurrentSession, Depends(require_session)]


def request_locale(request: Request, ui_locales: str | None = None) -> str:
    """The language to answer in (``service.i18n.negotiate``): ``ui_locales``, the picked
    language (cookie), ``Accept-Language`` (the page's script sends the page's language)."""
    names: CookieNames = request.app.state.cookies
    return negotiate(
        ui_locales,
        request.cookies.get(names.language),
        request.headers.get("accept-language"),
    )


async def check_csrf(request: Request, ctx: Ctx, browser_id: BrowserId) -> None:
    """Every state-changing request carries the token from the page (header or form field),
    and, when the browser says where it comes from, comes from one of our origins. It also
    sets the request's language, in which any email it queues is written."""
    use_locale(lambda: request_locale(request))
    origin = request.headers.get("origin")
    if origin and origin != "null" and origin not in ctx.settings.allowed_origins:
        raise CsrfFailed(detail=f"cross-origin request from {origin}")
    if request.headers.get("sec-fetch-site") == "cross-site":
        raise CsrfFailed(detail="Sec-Fetch-Site: cross-site")
    token = request.headers.get("x-csrf-token")
    if token is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        field = form.get("csrf_token")
        token = field if isinstance(field, str) else None
    if not ctx.keys.check_csrf(browser_id, token or ""):
        raise CsrfFailed(detail="missing or wrong CSRF token")


Csrf = Depends(check_csrf)


def safe_next(value: str | None, default: str = "/account") -> str:
    """Only same-origin absolute paths: no scheme, no host, no ``//`` or backslash tricks."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return default
    if any(ch in value for ch in "\\\r\n\t") or any(ord(ch) < 32 for ch in value):
        return default
    parts = split_url(value)
    if parts is None or parts.scheme or parts.netloc:
        return default
    return value


def browser_facts(request: Request, names: CookieNames) -> dict[str, Any]:
    """What a finished sign-in needs from the browser: its user agent and the session it
    replaces (rotated, never reused)."""
    return {
        "user_agent": request.headers.get("user-agent", ""),
        "replacing": request.cookies.get(names.session),
    }
