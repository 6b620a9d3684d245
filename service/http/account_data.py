"""The account page's "Your data" card: download what Sesame holds about you, and delete your
account (``service.lifecycle.leaving``). Both are form posts with the CSRF token, refused
without a recent passkey confirmation with the account page and a readable message."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from service.auth.errors import AuthError
from service.http.cookies import clear_cookie
from service.http.deps import Cookies, Csrf, Ctx, SignedIn
from service.http.oidc import Oidc
from service.http.pages import render_account
from service.http.render import page
from service.http.retry import RetryReadsRoute
from service.lifecycle import leaving

router = APIRouter(route_class=RetryReadsRoute, include_in_schema=False)


@router.post("/account/export", dependencies=[Csrf])
async def download_data(request: Request, ctx: Ctx, oidc: Oidc, session: SignedIn) -> Response:
    try:
        data = await leaving.export(ctx, oidc, session)
    except AuthError as exc:
        return await render_account(request, ctx, session, error=exc)
    day = ctx.clock.now().strftime("%Y-%m-%d")
    return Response(
        json.dumps(data, indent=2, ensure_ascii=False).encode(),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="sesame-data-{day}.json"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/account/delete", dependencies=[Csrf])
async def delete_account(
    request: Request,
    ctx: Ctx,
    names: Cookies,
    session: SignedIn,
    confirm: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    try:
        await leaving.delete_own_account(ctx, session, confirm)
    except AuthError as exc:
        return await render_account(request, ctx, session, error=exc)
    request.app.state.logouts.wake()  # apps are told in the background
    response = page(request, "deleted.html", email=session.user.email)
    response.headers["Cache-Control"] = "no-store"
    clear_cookie(response, names, names.session)
    clear_cookie(response, names, names.last_user)
    return response
