"""An app that keeps its own login and adds "Sign in with a passkey" through Sesame's passkey API.

Its backend holds the tenant's API key and calls Sesame server to server; its page uses the
browser's native WebAuthn JSON methods. The login JWT from Sesame is verified against Sesame's
JWKS (joserfc) before the app trusts it.

    SESAME_URL=http://localhost:8000 SESAME_TENANT=tnt_... SESAME_API_KEY=sk_... \\
        APP_URL=http://localhost:8002 python -m examples.passkey_app.app

Register the app first:
    sesame tenants create --name "Example app" --rp-id localhost --origin http://localhost:8002
"""

from __future__ import annotations

import html
import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from joserfc import jwt
from joserfc.jwk import KeySet
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

SESAME = os.environ.get("SESAME_URL", "http://localhost:8000").rstrip("/")
TENANT = os.environ.get("SESAME_TENANT", "")
API_KEY = os.environ.get("SESAME_API_KEY", "")
APP_URL = os.environ.get("APP_URL", "http://localhost:8002").rstrip("/")
API = f"{SESAME}/api/passkeys/v1"


async def sesame(method: str, path: str, body: Any = None) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.request(
            method, f"{API}{path}", json=body, headers={"Authorization": f"Bearer {API_KEY}"}
        )


def page(body: str) -> HTMLResponse:
    return HTMLResponse(
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>Example app</title>"
        '<script src="/static/passkeys.js" defer></script></head>'
        f"<body><h1>Example app</h1>{body}</body></html>"
    )


async def home(request: Request) -> Response:
    user = request.session.get("user")
    if not user:
        return page(
            '<p id="status">Not signed in.</p>'
            '<form method="post" action="/login"><label>Username <input name="username" '
            'id="username"></label> <button>Sign in (the app\'s own login)</button></form>'
            '<p><button id="passkey-login">Sign in with a passkey</button></p>'
            '<p id="error" role="alert"></p>'
        )
    found = await sesame("GET", f"/users/{user}/credentials")
    items = "".join(
        f'<li class="credential" data-id="{html.escape(c["id"])}">{html.escape(c["name"])} '
        f'<button class="delete" data-id="{html.escape(c["id"])}">Delete</button></li>'
        for c in found.json()
    )
    return page(
        f'<p id="status">Signed in as {html.escape(user)}</p>'
        f'<h2>Your passkeys</h2><ul id="credentials">{items}</ul>'
        '<button id="passkey-add">Add a passkey</button> <p id="error" role="alert"></p>'
        '<form method="post" action="/logout"><button>Sign out</button></form>'
    )


async def login(request: Request) -> Response:
    form = await request.form()
    request.session["user"] = str(form.get("username", "")).strip() or "guest"
    return RedirectResponse("/", status_code=303)


async def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/", status_code=303)


async def relay(request: Request, path: str, body: Any) -> JSONResponse:
    answer = await sesame("POST", path, body)
    return JSONResponse(answer.json(), status_code=answer.status_code)


async def register_start(request: Request) -> Response:
    user = request.session.get("user")
    if not user:
        return JSONResponse({"error": "not signed in"}, status_code=401)
    return await relay(request, "/registration/initialize", {"user_id": user, "username": user})


async def register_finish(request: Request) -> Response:
    if not request.session.get("user"):
        return JSONResponse({"error": "not signed in"}, status_code=401)
    return await relay(request, "/registration/finalize", await request.json())


async def login_start(request: Request) -> Response:
    return await relay(request, "/login/initialize", {})


async def login_finish(request: Request) -> Response:
    answer = await sesame("POST", "/login/finalize", await request.json())
    if answer.status_code != 200:
        return JSONResponse(answer.json(), status_code=answer.status_code)
    async with httpx.AsyncClient() as client:
        keys = KeySet.import_key_set((await client.get(f"{SESAME}/jwks.json")).json())
    token = jwt.decode(answer.json()["token"], keys, algorithms=["RS256"])
    claims = token.claims
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": SESAME},
        aud={"essential": True, "value": TENANT},
        exp={"essential": True},
    ).validate(claims)
    request.session["user"] = claims["sub"]
    return JSONResponse({"user": claims["sub"]})


async def delete_credential(request: Request) -> Response:
    user = request.session.get("user")
    credential_id = request.path_params["credential_id"]
    mine = await sesame("GET", f"/users/{user}/credentials")
    if not user or credential_id not in {c["id"] for c in mine.json()}:
        return JSONResponse({"error": "not yours"}, status_code=404)
    answer = await sesame("DELETE", f"/credentials/{credential_id}")
    return Response(status_code=answer.status_code)


app = Starlette(
    routes=[
        Route("/", home),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/passkeys/register/start", register_start, methods=["POST"]),
        Route("/passkeys/register/finish", register_finish, methods=["POST"]),
        Route("/passkeys/login/start", login_start, methods=["POST"]),
        Route("/passkeys/login/finish", login_finish, methods=["POST"]),
        Route("/passkeys/{credential_id}", delete_credential, methods=["DELETE"]),
        Mount("/static", StaticFiles(directory=str(Path(__file__).parent / "static"))),
    ],
    middleware=[
        Middleware(
            SessionMiddleware,
            secret_key=secrets.token_urlsafe(32),
            session_cookie="example_session",
            same_site="strict",
        )
    ],
)


def main() -> None:
    import uvicorn

    port = urlsplit(APP_URL).port or 8002
    print(f"Example app: open {APP_URL}", flush=True)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
