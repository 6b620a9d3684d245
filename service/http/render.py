"""Jinja2 pages: every page gets the CSRF token and the signed-in user, if any."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from service.http.middleware import CSP
from service.text import split_url

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
templates = Jinja2Templates(directory=str(WEB_DIR / "templates"))

# What each scope lets an app see, in words a person understands (consent and account pages).
SCOPE_WORDS = {
    "openid": "that it is you (a stable id for your account)",
    "profile": "your name and username",
    "email": "your email address",
    "offline_access": "access while you are away: it stays connected after you sign out here",
}


def scope_words(scope: list[str] | tuple[str, ...]) -> list[tuple[str, str]]:
    """``(scope, words)`` for each scope, ``openid`` first and always; an API's own scope is
    shown by its name."""
    shown = ["openid", *(s for s in scope if s != "openid")]
    return [(s, SCOPE_WORDS.get(s, s)) for s in shown]


templates.env.globals["scope_words"] = scope_words


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    ctx = request.app.state.ctx
    context.setdefault("user", None)
    context["csrf_token"] = ctx.keys.csrf_token(request.state.browser_id)
    context["rp_name"] = ctx.settings.rp_name
    context["brand"] = request.app.state.brand
    links = context.get("app_links") or {}
    response = templates.TemplateResponse(request, template, context, status_code=status_code)
    logo = split_url(links.get("logo_uri", ""))
    if logo is not None and logo.netloc:
        # The app's logo comes from the app's own site: that origin, for images only.
        response.headers["Content-Security-Policy"] = CSP.replace(
            "img-src 'self' data:", f"img-src 'self' data: {logo.scheme}://{logo.netloc}"
        )
    return response
    return templates.TemplateResponse(request, template, context, status_code=status_code)
