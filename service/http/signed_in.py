"""What every sign-in answer does: the session cookie, the "last user" cookie, and a new browser
id (rotated at sign-in like the session, so an id planted or seen before it is worth nothing
after). The authorization request the person is signing in for was parked under the old id, so
it moves to the new one."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response

from service.auth.context import AuthContext
from service.db.models import User
from service.http.cookies import CookieNames, set_signed_in
from service.http.middleware import rotate_browser_id
from service.oidc import interactions
from service.oidc.context import OidcContext

_INTERACTION_PATH = re.compile(r"/interaction/([A-Za-z0-9_-]{1,64})")


async def finish_sign_in(
    request: Request,
    response: Response,
    ctx: AuthContext,
    names: CookieNames,
    user: User,
    session_token: str,
    next_path: str,
) -> Response:
    set_signed_in(response, names, ctx, str(user.public_id), session_token)
    old, new = rotate_browser_id(request.scope["state"])
    parked = _INTERACTION_PATH.fullmatch(next_path)
    if parked:
        oidc: OidcContext = request.app.state.oidc
        await interactions.rebind(oidc, parked.group(1), old, new)
    return response
