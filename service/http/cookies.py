"""Cookie names and attributes.

Outside http://localhost every cookie is Secure with the ``__Host-`` prefix (no Domain, Path=/),
so a sibling subdomain cannot plant or overwrite it. All are HttpOnly and SameSite=Lax.
"""

from __future__ import annotations

from starlette.responses import Response

from service.settings import Settings


class CookieNames:
    def __init__(self, settings: Settings) -> None:
        prefix = "" if settings.is_local_http else "__Host-"
        self.secure = not settings.is_local_http
        self.session = f"{prefix}sesame_session"
        self.browser = f"{prefix}sesame_browser"
        self.last_user = f"{prefix}sesame_last_user"


def set_cookie(
    response: Response, names: CookieNames, name: str, value: str, max_age: int | None
) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path="/", secure=names.secure, httponly=True, samesite="lax"
    )


def clear_cookie(response: Response, names: CookieNames, name: str) -> None:
    response.delete_cookie(name, path="/", secure=names.secure, httponly=True, samesite="lax")
