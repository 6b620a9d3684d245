"""The first administrator's setup link (``service.auth.first_admin``): a page that asks the
signed-in person to confirm, and the confirmation (CSRF, and a passkey sign-in within the
step-up window)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from service.auth import first_admin
from service.auth.errors import NotSignedIn, StepUpRequired
from service.http.console.base import CHANGE
from service.http.deps import Ctx, MaybeSession
from service.http.render import page
from service.http.retry import RetryReadsRoute

router = APIRouter(route_class=RetryReadsRoute, include_in_schema=False)


@router.get("/console/setup/{token}")
async def setup_page(token: str, request: Request, ctx: Ctx, session: MaybeSession) -> Response:
    if not await first_admin.usable(ctx, token):
        raise first_admin.SetupLinkInvalid()
    if session is None:
        raise NotSignedIn()  # to the sign-in page (which offers sign-up), then back here
    return page(request, "console/setup.html", user=session.user, token=token)


@router.post("/console/setup/{token}", dependencies=CHANGE)
async def claim(token: str, ctx: Ctx, session: MaybeSession) -> Response:
    if session is None:
        raise NotSignedIn()
    if not session.passkey_recent(ctx.clock.now(), ctx.settings.step_up_seconds):
        raise StepUpRequired(detail="setup link without a recent passkey sign-in")
    await first_admin.claim(ctx, token, session.user)
    return RedirectResponse("/console?done=admin", status_code=303)
