"""Confirming and changing the account's email address (pages and forms)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from service.auth import email_address
from service.auth.errors import AuthError
from service.http.deps import Csrf, Ctx, SignedIn
from service.http.oidc import see_other
from service.http.pages import render_account
from service.http.render import page
from service.http.retry import RetryReadsRoute

router = APIRouter(route_class=RetryReadsRoute, include_in_schema=False)


def _error_page(request: Request, exc: AuthError) -> Response:
    return page(request, "error.html", status_code=exc.status_code, error=exc.error, message=exc)


@router.get("/email/confirm/{token}")
async def confirm_page(request: Request, token: str, ctx: Ctx) -> Response:
    """Opening the link changes nothing (mail scanners open links): it shows a button."""
    try:
        address = await email_address.pending_address(ctx, token)
    except AuthError as exc:
        return _error_page(request, exc)
    return page(request, "email_verify.html", token=token, address=address)


@router.post("/email/confirm/{token}", dependencies=[Csrf])
async def confirm(request: Request, token: str, ctx: Ctx) -> Response:
    try:
        user = await email_address.confirm_with_link(ctx, token)
    except AuthError as exc:
        return _error_page(request, exc)
    return page(request, "email_verify.html", confirmed=user.email)


@router.post("/account/email/code", dependencies=[Csrf])
async def confirm_code(
    request: Request, code: Annotated[str, Form(max_length=20)], ctx: Ctx, session: SignedIn
) -> Response:
    try:
        await email_address.confirm_with_code(ctx, session.user, code)
    except AuthError as exc:
        return await render_account(request, ctx, session, error=exc)
    return see_other("/account?done=email-confirmed")


@router.post("/account/email/resend", dependencies=[Csrf])
async def resend(request: Request, ctx: Ctx, session: SignedIn) -> Response:
    try:
        await email_address.resend_confirmation(ctx, session.user)
    except AuthError as exc:
        return await render_account(request, ctx, session, error=exc)
    return see_other("/account?done=email-sent")


@router.post("/account/email", dependencies=[Csrf])
async def change(
    request: Request, email: Annotated[str, Form(max_length=320)], ctx: Ctx, session: SignedIn
) -> Response:
    try:
        await email_address.request_change(ctx, session, email)
    except AuthError as exc:
        return await render_account(request, ctx, session, error=exc)
    return see_other("/account?done=email-change-sent")
