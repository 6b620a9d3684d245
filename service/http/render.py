"""Jinja2 pages: every page gets the CSRF token, the signed-in user if any, the brand, and
its language (``service.i18n``: ``_``, ``lang``, ``dir``, dates)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from babel.dates import format_date
from fastapi import Request
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from starlette.responses import Response

from service.http.cookies import set_cookie
from service.http.deps import request_locale
from service.http.middleware import CSP, browser_of
from service.i18n import (
    LOCALES,
    N_,
    NATIVE_NAMES,
    ago,
    direction,
    html_gettext,
    html_lang,
    translate,
    when,
)
from service.problems import Problem
from service.text import split_url

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
templates = Jinja2Templates(directory=str(WEB_DIR / "templates"))

# What each scope lets an app see, in words a person understands (consent and account pages).
SCOPE_WORDS = {
    "openid": N_("that it is you (a stable id for your account)"),
    "profile": N_("your name and username"),
    "email": N_("your email address"),
    "groups": N_("the groups you belong to"),
    "offline_access": N_("access while you are away: it stays connected after you sign out here"),
}

# What the page's script may have to say (sesame.js reads them from the page, translated).
SCRIPT_TEXT = {
    "server": N_("The server answered %(status)s. Please try again."),
    "closed": N_(
        "The passkey dialog was closed or timed out. Nothing was changed; you can try again."
    ),
    "exists": N_("This device already holds a passkey for this account."),
    "origin": N_("This site's address does not match its passkey settings."),
    "browser": N_("Your browser could not use a passkey here (%(reason)s)."),
    "username": N_("Enter your username, or use the passkey button."),
    "fields": N_("Please correct the highlighted fields."),
    "unsupported": N_(
        "This browser does not support passkeys. Try a current version of Chrome, Safari, "
        "Firefox or Edge."
    ),
}


def scope_words(scope: list[str] | tuple[str, ...]) -> list[tuple[str, str]]:
    """``(scope, words)`` for each scope, ``openid`` first and always; an API's own scope is
    shown by its name. The words are English message ids: templates translate them."""
    shown = ["openid", *(s for s in scope if s != "openid")]
    return [(s, SCOPE_WORDS.get(s, s)) for s in shown]


def strong(value: str, element_id: str = "") -> Markup:
    """A value shown in bold inside a translated sentence (escaped)."""
    if element_id:
        return Markup('<strong id="{}">{}</strong>').format(element_id, value)
    return Markup("<strong>{}</strong>").format(value)


templates.env.globals["scope_words"] = scope_words
templates.env.globals["strong"] = strong


def _language_helpers(locale: str, now: datetime) -> dict[str, Any]:
    def scope_list(scope: list[str]) -> str:
        return "; ".join(translate(locale, words) for _, words in scope_words(scope))

    return {
        "locale": locale,
        "lang": html_lang(locale),
        "dir": direction(locale),
        "_": html_gettext(locale),
        "when": lambda moment: when(locale, moment),
        "when_iso": lambda text: when(locale, datetime.fromisoformat(text)),
        "day": lambda moment: format_date(moment, "medium", locale=locale),
        "ago": lambda moment: ago(locale, moment, now),
        "scope_list": scope_list,
    }


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    ctx = request.app.state.ctx
    context.setdefault("user", None)
    context["csrf_token"] = ctx.keys.csrf_token(browser_of(request.scope["state"]))
    context["rp_name"] = ctx.settings.rp_name
    context["brand"] = request.app.state.brand
    ui_locales = context.get("ui_locales")
    locale = request_locale(request, ui_locales)
    context.update(_language_helpers(locale, ctx.clock.now()))
    for key in ("error", "message"):  # a Problem is shown in the page's language
        if isinstance(context.get(key), Problem):
            context[key] = context[key].localized(locale)
    context.update(
        languages=[(code, NATIVE_NAMES[code]) for code in LOCALES],
        here=request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        script_text={key: translate(locale, text) for key, text in SCRIPT_TEXT.items()},
    )
    links = context.get("app_links") or {}
    response = templates.TemplateResponse(request, template, context, status_code=status_code)
    response.headers["Content-Language"] = context["lang"]
    names = request.app.state.cookies
    if ui_locales and locale != request.cookies.get(names.language):
        # The app named the person's language: this browser keeps it until it closes (the
        # forms and calls of this sign-in, and the emails they send, follow it).
        set_cookie(response, names, names.language, locale, None)
    logo = split_url(links.get("logo_uri", ""))
    if logo is not None and logo.netloc:
        # The app's logo comes from the app's own site: that origin, for images only.
        response.headers["Content-Security-Policy"] = CSP.replace(
            "img-src 'self' data:", f"img-src 'self' data: {logo.scheme}://{logo.netloc}"
        )
    return response
