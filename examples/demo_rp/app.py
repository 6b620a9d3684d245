"""A small relying app that signs its users in through Sesame with Authlib.

It is what any web app does with a standard OIDC library: discovery, authorization code with
PKCE (a public client, so no secret), ID token validation (signature against JWKS, iss, aud,
exp, nonce), userinfo, refresh, revocation and RP-initiated logout.

    SESAME_ISSUER=http://localhost:8000 DEMO_URL=http://localhost:8001 \
        python -m examples.demo_rp.app

Register it first (``./scripts/run`` does both):

    sesame clients create --client-id sesame-demo --type public --name "Sesame demo app" \
        --redirect-uri http://localhost:8001/callback --post-logout-redirect-uri http://localhost:8001/
"""

from __future__ import annotations

import html
import json
import os
import secrets
import warnings
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
from authlib.deprecate import AuthlibDeprecationWarning
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

# Authlib 1.9 announces on import that it will move to the httpx2 package; the demo works with
# httpx as it is, and a newcomer's first run should not open with a library's notice. (Its
# own filter says "always" for its warnings, so this one goes in after it.)
warnings.filterwarnings(
    "ignore", message="The httpx module is deprecated", category=AuthlibDeprecationWarning
)
from authlib.integrations.starlette_client import OAuth, OAuthError  # noqa: E402

ISSUER = os.environ.get("SESAME_ISSUER", "http://localhost:8000").rstrip("/")
DEMO_URL = os.environ.get("DEMO_URL", "http://localhost:8001").rstrip("/")
CLIENT_ID = os.environ.get("DEMO_CLIENT_ID", "sesame-demo")
# Add "groups" when the app was registered with that scope: the person's groups arrive in the
# ID token (``sesame clients create --scope "openid profile email groups"``).
SCOPE = os.environ.get("DEMO_SCOPE", "openid profile email")

oauth = OAuth()
oauth.register(
    "sesame",
    client_id=CLIENT_ID,
    server_metadata_url=f"{ISSUER}/.well-known/openid-configuration",
    client_kwargs={
        "scope": SCOPE,
        "code_challenge_method": "S256",
        "token_endpoint_auth_method": "none",
    },
)


STYLE = """
:root{color-scheme:light dark;--fg:#1d2330;--muted:#566070;--bg:#f5f6f8;--card:#fff;
--line:#c9ced8;--accent:#2f5bd3;--alert:#b3261e;--alert-bg:#fdecea}
@media (prefers-color-scheme:dark){:root{--fg:#e6e9ef;--muted:#a9b1be;--bg:#111418;
--card:#1b1f26;--line:#3a414d;--accent:#8fb0ff;--alert:#ff8a80;--alert-bg:#3a1d1b}}
*{box-sizing:border-box}body{margin:0;font:16px/1.45 system-ui,sans-serif;color:var(--fg);
background:var(--bg)}header{padding:.75rem 1rem;background:var(--card);
border-bottom:1px solid var(--line);font-weight:700}main{max-width:46rem;margin:1.5rem auto;
padding:0 1rem}.card{background:var(--card);border:1px solid var(--line);border-radius:.75rem;
padding:1.25rem;margin-bottom:1rem}h1{font-size:1.4rem;margin:0 0 .75rem}
h2{font-size:1.1rem}pre{background:var(--bg);border-radius:.5rem;padding:.75rem;
white-space:pre-wrap;overflow-wrap:anywhere;font-size:.85rem}
a.button,button{display:inline-block;font:inherit;padding:.6rem 1rem;border-radius:.5rem;
border:1px solid var(--line);background:var(--card);color:var(--fg);text-decoration:none;
margin:.25rem .5rem .25rem 0;cursor:pointer}a.primary{background:var(--accent);
border-color:var(--accent);color:#fff}.muted{color:var(--muted)}
.alert{color:var(--alert);background:var(--alert-bg);border-radius:.5rem;padding:.6rem .75rem}
form{display:inline}
"""
# What an app should tell its users when Sesame answers with an error (RFC 6749 4.1.2.1).
WORDS = {
    "access_denied": "You chose not to share your account with the demo app. Nothing was shared.",
    "login_required": "You are not signed in to Sesame, so the silent check found nobody.",
    "consent_required": "Sesame needs your permission first: sign in normally.",
    "invalid_grant": "Your session with the demo app expired. Please sign in again.",
}


def _page(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Sesame demo app</title><style>{STYLE}</style></head><body>"
        f"<header>Sesame demo app</header><main>{body}</main></body></html>",
        status_code=status,
    )


def _error_words(error: str, description: str | None) -> str:
    """Words for a person, with the code kept for whoever debugs the integration."""
    if error == "access_denied" and "group" in (description or ""):
        # Sesame said the account is not in a group this app admits (the person saw why).
        return "Your account does not have access to the demo app. (access_denied)"
    if error in WORDS:
        return f"{WORDS[error]} ({error})"
    return f"Sign-in did not complete ({error}: {description or 'no detail'})."


def _json(value: Any) -> str:
    return f"<pre>{html.escape(json.dumps(value, indent=2, sort_keys=True))}</pre>"


async def home(request: Request) -> Response:
    error = request.session.pop("error", None)
    user = request.session.get("user")
    notice = f'<p class="alert" role="alert" id="error">{html.escape(error)}</p>' if error else ""
    if not user:
        return _page(
            f'<section class="card"><h1>Welcome</h1>{notice}<p>You are not signed in.</p>'
            '<p class="muted">This app has no accounts of its own: it signs you in with Sesame '
            "using a standard OpenID Connect library (Authlib).</p>"
            '<p><a id="login" class="button primary" href="/login">Sign in with Sesame</a>'
            '<a id="silent" class="button" href="/login?prompt=none">Check silently '
            "(prompt=none)</a></p></section>"
        )
    name = user["userinfo"].get("preferred_username", user["claims"]["sub"])
    return _page(
        f'<section class="card">{notice}<h1 id="greeting">Signed in as {html.escape(name)}</h1>'
        f'<p class="muted">Refreshed <span id="refreshes">{user.get("refreshes", 0)}</span> '
        "times.</p>"
        '<form method="post" action="/refresh"><button id="refresh">Refresh tokens</button></form>'
        '<form method="post" action="/logout"><button id="logout">Sign out</button></form>'
        '<p><a id="again" class="button" href="/login?max_age=0">Sign in again (max_age=0)</a>'
        '<a id="silent" class="button" href="/login?prompt=none">Check silently (prompt=none)</a>'
        "</p></section>"
        '<section class="card"><h2>ID token claims (validated by Authlib)</h2>'
        f'<div id="claims">{_json(user["claims"])}</div>'
        f'<h2>Userinfo</h2><div id="userinfo">{_json(user["userinfo"])}</div></section>'
    )


async def login(request: Request) -> Response:
    extra = {k: v for k, v in request.query_params.items() if k in {"prompt", "max_age"}}
    # Authlib adds state, nonce and the PKCE challenge and keeps them in the session.
    return await oauth.sesame.authorize_redirect(request, f"{DEMO_URL}/callback", **extra)


async def callback(request: Request) -> Response:
    try:
        token = await oauth.sesame.authorize_access_token(request)
    except OAuthError as exc:
        request.session["error"] = _error_words(exc.error, exc.description)
        return RedirectResponse("/", status_code=303)
    info = await oauth.sesame.userinfo(token=token)
    request.session["user"] = {
        "claims": dict(token["userinfo"]),
        "userinfo": dict(info),
        "refresh_token": token.get("refresh_token"),
        "id_token": token["id_token"],
        "refreshes": 0,
    }
    return RedirectResponse("/", status_code=303)


async def refresh(request: Request) -> Response:
    user = request.session.get("user")
    if not user:
        return RedirectResponse("/", status_code=303)
    try:
        token = await oauth.sesame.fetch_access_token(
            grant_type="refresh_token", refresh_token=user["refresh_token"]
        )
    except OAuthError as exc:
        request.session.pop("user", None)
        request.session["error"] = _error_words(exc.error, exc.description)
        return RedirectResponse("/", status_code=303)
    user["refresh_token"] = token["refresh_token"]
    user["userinfo"] = dict(await oauth.sesame.userinfo(token=token))
    user["refreshes"] = user.get("refreshes", 0) + 1
    request.session["user"] = user
    return RedirectResponse("/", status_code=303)


async def logout(request: Request) -> Response:
    user = request.session.pop("user", None)
    metadata = await oauth.sesame.load_server_metadata()
    if not user:
        return RedirectResponse("/", status_code=303)
    async with httpx.AsyncClient() as client:  # RFC 7009: the app gives its token back
        await client.post(
            metadata["revocation_endpoint"],
            data={"token": user["refresh_token"], "client_id": CLIENT_ID},
        )
    state = secrets.token_urlsafe(8)
    query = urlencode(
        {
            "id_token_hint": user["id_token"],
            "post_logout_redirect_uri": f"{DEMO_URL}/",
            "state": state,
        }
    )
    return RedirectResponse(f"{metadata['end_session_endpoint']}?{query}", status_code=303)


app = Starlette(
    routes=[
        Route("/", home),
        Route("/login", login),
        Route("/callback", callback),
        Route("/refresh", refresh, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
    ],
    middleware=[
        Middleware(
            SessionMiddleware,
            secret_key=os.environ.get("DEMO_SESSION_KEY") or secrets.token_urlsafe(32),
            session_cookie="demo_session",
            https_only=urlsplit(DEMO_URL).scheme == "https",
        )
    ],
)


def main() -> None:
    import uvicorn

    port = urlsplit(DEMO_URL).port or 8001
    print(f"Sesame demo app: open {DEMO_URL} (signs in through {ISSUER})", flush=True)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
