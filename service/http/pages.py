"""The hosted pages: sign in, sign up, account, sign out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from service.auth import account
from service.auth.errors import AuthError
from service.auth.sessions import end_session
from service.http.cookies import clear_cookie
from service.http.deps import Cookies, Csrf, Ctx, MaybeSession, SignedIn, safe_next
from service.http.render import page

router = APIRouter()

NOTICES = {
    "welcome": "Welcome! Your account and its first passkey are ready.",
    "added": "Passkey added.",
    "renamed": "Passkey renamed.",
    "deleted": "Passkey deleted.",
}


def _see_other(url: str) -> RedirectResponse:
    # 303 so the browser follows a form POST with a GET (never 307, which would repost).
    return RedirectResponse(url, status_code=303)


@router.get("/healthz", include_in_schema=False)
async def healthz() -> dict[str, str]:
    """Liveness only: the process answers. Readiness (database, Redis) is a separate check."""
    return {"status": "ok"}


@router.get("/")
async def home(session: MaybeSession) -> Response:
    return _see_other("/account" if session else "/signin")


@router.get("/signin")
async def signin_page(
    request: Request, ctx: Ctx, names: Cookies, session: MaybeSession, next: str | None = None
) -> Response:
    target = safe_next(next)
    if session:
        return _see_other(target)
    returning = await account.returning_user(ctx, request.cookies.get(names.last_user))
    return page(request, "signin.html", returning=returning, next=target)


@router.get("/signup")
async def signup_page(request: Request, session: MaybeSession) -> Response:
    if session:
        return _see_other("/account")
    return page(request, "signup.html")


async def _account_page(
    request: Request, ctx: Ctx, session: SignedIn, *, error: AuthError | None = None
) -> Response:
    passkeys = await account.list_passkeys(ctx, session.user)
    notice = NOTICES.get(request.query_params.get("done", ""))
    return page(
        request,
        "account.html",
        status_code=error.status_code if error else 200,
        user=session.user,
        passkeys=passkeys,
        notice=notice,
        error=error.message if error else None,
    )


@router.get("/account")
async def account_page(request: Request, ctx: Ctx, session: SignedIn) -> Response:
    return await _account_page(request, ctx, session)


@router.post("/account/passkeys/{credential_pk}/rename", dependencies=[Csrf])
async def rename_passkey(
    request: Request,
    credential_pk: int,
    name: Annotated[str, Form(max_length=200)],
    ctx: Ctx,
    session: SignedIn,
) -> Response:
    try:
        await account.rename_passkey(ctx, session.user, credential_pk, name)
    except AuthError as exc:
        return await _account_page(request, ctx, session, error=exc)
    return _see_other("/account?done=renamed")


@router.post("/account/passkeys/{credential_pk}/delete", dependencies=[Csrf])
async def delete_passkey(
    request: Request, credential_pk: int, ctx: Ctx, session: SignedIn
) -> Response:
    try:
        await account.delete_passkey(ctx, session.user, credential_pk)
    except AuthError as exc:
        return await _account_page(request, ctx, session, error=exc)
    return _see_other("/account?done=deleted")


@router.post("/signout", dependencies=[Csrf])
async def signout(request: Request, ctx: Ctx, names: Cookies) -> Response:
    await end_session(ctx, request.cookies.get(names.session))
    response = _see_other("/signin")
    clear_cookie(response, names, names.session)
    return response


@router.post("/signin/forget", dependencies=[Csrf])
async def forget_me(names: Cookies) -> Response:
    response = _see_other("/signin")
    clear_cookie(response, names, names.last_user)
    return response
