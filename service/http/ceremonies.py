"""JSON endpoints the page's script calls around navigator.credentials.create/get.

Each is an adapter: parse, call one auth function, answer. ``begin`` answers
``{"ceremony", "publicKey"}``; ``finish`` answers ``{"redirect"}`` and sets the session cookie.

Sign-up and sign-in (``DIRECT``) are answered before FastAPI's router
(``service.http.direct``): the same CSRF check, body model and endpoint function as their
routes here, without the router scan and the dependency solver, which cost about a quarter of a
passkey sign-in's server time. A body the model refuses, or one that is not an
``application/json`` object, goes on to the route, which answers it as before.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, ValidationError
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope

from service.auth import account, ratelimit, signin, signup
from service.auth.context import AuthContext
from service.db.models import User
from service.http.cookies import CookieNames
from service.http.deps import (
    BrowserId,
    Cookies,
    Csrf,
    Ctx,
    SignedIn,
    browser_facts,
    check_csrf,
    client_address,
    safe_next,
)
from service.http.direct import Direct, Prepared
from service.http.inputs import JSON_BODY
from service.http.middleware import browser_of
from service.http.retry import RetryReadsRoute
from service.http.signed_in import finish_sign_in

router = APIRouter(route_class=RetryReadsRoute, dependencies=[Csrf], include_in_schema=False)


class SignupBegin(BaseModel):
    username: str = Field(max_length=100)
    email: str = Field(max_length=320)
    name: str = Field(default="", max_length=200)
    # The token of an invitation link (/signup?invitation=...), when there is one.
    invitation: str | None = Field(default=None, max_length=100)


class SigninBegin(BaseModel):
    username: str | None = Field(default=None, max_length=100)


class Finish(BaseModel):
    ceremony: str = Field(max_length=64)
    credential: dict[str, Any]
    next: str | None = Field(default=None, max_length=2000)


def _options(ceremony_id: str, options: dict[str, Any]) -> dict[str, Any]:
    return {"ceremony": ceremony_id, "publicKey": options}


async def _signed_in(
    request: Request, ctx: AuthContext, names: CookieNames, user: User, token: str, redirect: str
) -> Response:
    response = JSONResponse({"redirect": redirect})
    return await finish_sign_in(request, response, ctx, names, user, token, redirect)


def _ceremony_budget(request: Request, ctx: AuthContext) -> ratelimit.Budget:
    """A begin stores a challenge: budgeted per client address (``SESAME_CEREMONY_RATE_PER_IP``
    a minute; 429 with ``Retry-After`` past it). A finish needs a ceremony from a begin, so it
    is bounded by this without a round trip of its own."""
    return ratelimit.Budget(
        "ceremony-ip", client_address(request), ctx.settings.ceremony_rate_per_ip, 60
    )


@router.post("/signup/begin")
async def signup_begin(
    body: SignupBegin, request: Request, ctx: Ctx, browser_id: BrowserId
) -> dict[str, Any]:
    # Before the sign-up's own checks (two reads): a flood is refused before it reaches them.
    await ratelimit.spend(ctx, _ceremony_budget(request, ctx))
    ceremony_id, options = await signup.begin_signup(
        ctx,
        browser_id,
        username=body.username,
        email=body.email,
        name=body.name,
        invitation=body.invitation,
    )
    return _options(ceremony_id, options)


@router.post("/signup/finish")
async def signup_finish(
    body: Finish, request: Request, ctx: Ctx, names: Cookies, browser_id: BrowserId
) -> Response:
    user, token = await signup.finish_signup(
        ctx,
        browser_id,
        ceremony_id=body.ceremony,
        credential=body.credential,
        **browser_facts(request, names),
    )
    next_path = safe_next(body.next, "/account?done=welcome")
    return await _signed_in(request, ctx, names, user, token, next_path)


@router.post("/signin/begin")
async def signin_begin(
    body: SigninBegin, request: Request, ctx: Ctx, browser_id: BrowserId
) -> dict[str, Any]:
    # The budget is spent in the same round trip as the challenge is stored.
    ceremony_id, options = await signin.begin_signin(
        ctx, browser_id, username=body.username, budget=_ceremony_budget(request, ctx)
    )
    return _options(ceremony_id, options)


@router.post("/signin/finish")
async def signin_finish(
    body: Finish, request: Request, ctx: Ctx, names: Cookies, browser_id: BrowserId
) -> Response:
    user, token = await signin.finish_signin(
        ctx,
        browser_id,
        ceremony_id=body.ceremony,
        credential=body.credential,
        **browser_facts(request, names),
    )
    return await _signed_in(request, ctx, names, user, token, safe_next(body.next))


@router.post("/account/passkeys/begin")
async def add_passkey_begin(ctx: Ctx, browser_id: BrowserId, session: SignedIn) -> dict[str, Any]:
    ceremony_id, options = await account.begin_add_passkey(ctx, browser_id, session.user)
    return _options(ceremony_id, options)


@router.post("/account/passkeys/finish")
async def add_passkey_finish(
    body: Finish, request: Request, ctx: Ctx, browser_id: BrowserId, session: SignedIn
) -> dict[str, str]:
    await account.finish_add_passkey(
        ctx,
        browser_id,
        session.user,
        ceremony_id=body.ceremony,
        credential=body.credential,
        user_agent=request.headers.get("user-agent", ""),
    )
    return {"redirect": "/account?done=added"}


@router.post("/account/step-up/begin")
async def step_up_begin(ctx: Ctx, browser_id: BrowserId, session: SignedIn) -> dict[str, Any]:
    ceremony_id, options = await signin.begin_step_up(ctx, browser_id, session.user)
    return _options(ceremony_id, options)


@router.post("/account/step-up/finish")
async def step_up_finish(
    body: Finish, ctx: Ctx, browser_id: BrowserId, session: SignedIn
) -> dict[str, str]:
    await signin.finish_step_up(
        ctx, browser_id, session, ceremony_id=body.ceremony, credential=body.credential
    )
    return {"redirect": "/account?done=confirmed"}


class JsonCeremony:
    """A ceremony's JSON POST as a ``Direct`` route: its route's model, CSRF check and
    endpoint function, called with the arguments its signature names."""

    def __init__(self, model: type[BaseModel], endpoint: Callable[..., Awaitable[Any]]) -> None:
        self.model = model
        self.endpoint = endpoint
        self.wants = tuple(inspect.signature(endpoint).parameters)

    def prepare(self, scope: Scope, receive: Receive) -> Prepared | None:
        data = scope.get("state", {}).get(JSON_BODY)
        if data is None:
            return None
        try:
            body = self.model.model_validate(data)
        except ValidationError:
            return None  # the route answers, with the same 400 as ever
        return lambda: self._answer(body, Request(scope, receive))

    async def _answer(self, body: BaseModel, request: Request) -> Response:
        ctx: AuthContext = request.app.state.ctx
        browser_id = browser_of(request.scope["state"])
        await check_csrf(request, ctx, browser_id)
        given = {
            "body": body,
            "request": request,
            "ctx": ctx,
            "names": request.app.state.cookies,
            "browser_id": browser_id,
        }
        result = await self.endpoint(**{name: given[name] for name in self.wants})
        return result if isinstance(result, Response) else JSONResponse(result)


DIRECT: dict[str, Direct] = {
    "/signup/begin": JsonCeremony(SignupBegin, signup_begin),
    "/signup/finish": JsonCeremony(Finish, signup_finish),
    "/signin/begin": JsonCeremony(SigninBegin, signin_begin),
    "/signin/finish": JsonCeremony(Finish, signin_finish),
}
