"""Which language a request is answered in, and the language picker (``POST /language``).

``service.i18n.negotiate`` decides: the app's ``ui_locales`` (pages of an authorization
request), the picked language (a cookie), ``Accept-Language``. The page's script sends the
page's language as ``Accept-Language`` on its own calls, so a ceremony's error is in the
language of the page that started it.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Form
from starlette.responses import RedirectResponse, Response

from service.http.cookies import set_cookie
from service.http.deps import BrowserId, Cookies, Csrf, request_locale, safe_next
from service.http.oidc import Oidc
from service.i18n import LOCALES
from service.oidc import interactions
from service.text import split_url

__all__ = ["request_locale", "router"]

router = APIRouter(include_in_schema=False)
LANGUAGE_COOKIE_SECONDS = 400 * 24 * 3600


@router.post("/language", dependencies=[Csrf])
async def choose_language(
    names: Cookies,
    oidc: Oidc,
    browser_id: BrowserId,
    lang: Annotated[str, Form(max_length=10)],
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """The picker under every page: remembered in this browser, back to the same page. On
    the pages of an app's request, the choice also replaces the app's ``ui_locales``."""
    target = safe_next(next, "/")
    response = RedirectResponse(target, status_code=303)
    if lang in LOCALES:
        set_cookie(response, names, names.language, lang, LANGUAGE_COOKIE_SECONDS)
        uid = _interaction_of(target)
        if uid:
            await interactions.choose_language(oidc, uid, browser_id, lang)
    return response


def _interaction_of(path: str) -> str | None:
    """The interaction a page belongs to: ``?interaction=UID`` or ``/interaction/UID``."""
    parts = split_url(path)
    if parts is None:
        return None
    if parts.path.startswith("/interaction/"):
        return parts.path.split("/")[2] or None
    found = parse_qs(parts.query).get("interaction")
    return found[0] if found else None
