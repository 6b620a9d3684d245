"""The device authorization grant's HTTP side (RFC 8628): the device authorization endpoint,
and the hosted ``/device`` page where a person types the user code, signs in, and approves or
denies. The protocol is ``service.oidc.device``; the token endpoint polls through the grant
registry (``service.oidc.grants.device_code``).

Wrong codes are counted per browser (``SESAME_DEVICE_CODE_ATTEMPTS`` in a window) and per client
address (ten times that); past either, the page answers 429 until the window ends.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from service.auth import ratelimit
from service.http.deps import BrowserId, Csrf, Ctx, MaybeSession, SignedIn, client_address
from service.http.oidc import Oidc, authentication, back_channel, see_other
from service.http.render import page
from service.http.retry import RetryReadsRoute
from service.i18n import N_
from service.oidc import device

router = APIRouter(route_class=RetryReadsRoute, include_in_schema=False)

WRONG_CODE = N_("That code is not valid. Check the code on your device; it may have expired.")


@router.post("/device_authorization")
async def device_authorization_endpoint(request: Request, ctx: Ctx, oidc: Oidc) -> Response:
    limit = ctx.settings.device_requests_per_ip
    await ratelimit.hit(ctx, "device-authorization", client_address(request), limit, window=60)
    return await back_channel(request, oidc, device.device_authorization)


# One address may be a whole office behind NAT: it gets ten browsers' worth of wrong codes.
IP_FACTOR = 10


def _budgets(request: Request, browser_id: str, limit: int) -> list[tuple[str, str, int]]:
    return [
        ("device-code-browser", browser_id, limit),
        ("device-code-ip", client_address(request), limit * IP_FACTOR),
    ]


@router.get("/device")
async def device_page(
    request: Request,
    ctx: Ctx,
    oidc: Oidc,
    session: MaybeSession,
    browser_id: BrowserId,
    user_code: str | None = None,
) -> Response:
    if not user_code:
        return page(request, "device.html", step="enter")
    if session is None:
        # Sign in first (passkey or email link), then back here with the code.
        return see_other("/signin?next=" + quote(f"/device?user_code={user_code}", safe=""))
    budgets = _budgets(request, browser_id, ctx.settings.device_code_attempts)
    for kind, who, limit in budgets:
        await ratelimit.check(ctx, kind, who, limit)
    found = await device.pending_request(oidc, user_code)
    if found is None:
        for kind, who, limit in budgets:
            await ratelimit.hit(ctx, kind, who, limit)
        return page(
            request, "device.html", status_code=400, step="enter", error=WRONG_CODE, typed=user_code
        )
    return page(request, "device.html", step="confirm", request_=found)


@router.post("/device", dependencies=[Csrf])
async def device_decision(
    request: Request,
    oidc: Oidc,
    session: SignedIn,
    user_code: Annotated[str, Form(max_length=20)],
    decision: Annotated[str, Form(pattern="^(allow|deny)$")],
) -> Response:
    approved = decision == "allow"
    auth = authentication(session) if approved else None
    if not await device.decide(oidc, user_code, auth):
        return page(request, "device.html", status_code=400, step="enter", error=WRONG_CODE)
    return page(request, "device.html", step="done", approved=approved)
