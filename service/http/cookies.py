"""Cookie names and attributes.

Outside http://localhost every cookie is Secure with the ``__Host-`` prefix (no Domain, Path=/),
so a sibling subdomain cannot plant or overwrite it. All are HttpOnly and SameSite=Lax.
"""

from __future__ import annotations

from starlette.responses import Response

from service.auth.context import AuthContext
from service.settings import Settings


class CookieNames:
    def __init__(self, settings: Settings) -> None:
        prefix = "" if settings.is_local_http else "__Host-"
        self.secure = not settings.is_local_http
        self.session = f"{prefix}sesame_session"
        self.browser = f"{prefix}sesame_browser"
        self.last_user = f"{prefix}sesame_last_user"
        self.language = f"{prefix}sesame_lang"


def set_cookie(
    response: Response, names: CookieNames, name: str, value: str, max_age: int | None
) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path="/", secure=names.secure, httponly=True, samesite="lax"
    )


def clear_cookie(response: Response, names: CookieNames, name: str) -> None:
    response.delete_cookie(name, path="/", secure=names.secure, httponly=True, samesite="lax")


def set_signed_in(
    response: Response,
    names: CookieNames,
    ctx: AuthContext,
    public_id: str,
    token: str,
) -> None:
    """The new session's cookie, and the signed "last user" cookie that greets them next time."""
    set_cookie(response, names, names.session, token, ctx.settings.session_max_seconds)
    set_cookie(
        response,
        names,
        names.last_user,
        ctx.keys.sign("last-user", public_id),
        ctx.settings.last_user_cookie_days * 86400,
    )
