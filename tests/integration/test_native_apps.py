"""Native apps (RFC 8252): a public client with a private-use scheme redirect (7.1) or a
loopback redirect on whatever port the OS gave it (7.3), PKCE always (8.1), driven by Authlib's
OAuth 2.0 client the way AppAuth drives a mobile app: open the authorization URL in a browser,
catch the redirect, exchange the code."""

from __future__ import annotations

import secrets
import socket

import httpx
import pytest
from authlib.integrations.httpx_client import AsyncOAuth2Client

from service.oidc.clients import ClientRejected, ClientSpec, create_client
from tests.rp import query_of

ISSUER = "http://localhost:8000"
SCHEME_REDIRECT = "com.example.notes:/oauth2redirect"


async def native_client(app, redirect_uri: str, *registered: str) -> AsyncOAuth2Client:
    spec = ClientSpec(
        name="Notes for Android",
        type="public",
        redirect_uris=list(registered or [redirect_uri]),
        first_party=True,
    )
    row, secret = await create_client(app.state.oidc, spec)
    assert secret is None
    return AsyncOAuth2Client(
        row.client_id,
        redirect_uri=redirect_uri,
        scope="openid profile",
        code_challenge_method="S256",
        token_endpoint_auth_method="none",
        transport=httpx.ASGITransport(app=app),
    )


async def sign_in_natively(app, browser, redirect_uri: str, *registered: str) -> dict:
    client = await native_client(app, redirect_uri, *registered)
    verifier = secrets.token_urlsafe(48)
    url, state = client.create_authorization_url(
        f"{ISSUER}/authorize", code_verifier=verifier, nonce=secrets.token_urlsafe(8)
    )
    # The system browser shows Sesame's page; the OS hands the redirect back to the app.
    response = await browser.client.get(url)
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith(redirect_uri + "?")
    assert query_of(location)["state"] == state
    token = await client.fetch_token(
        f"{ISSUER}/token", authorization_response=location, code_verifier=verifier
    )
    await client.aclose()
    return dict(token)


async def test_private_use_scheme_redirect_with_pkce(app, browser):
    token = await sign_in_natively(app, browser, SCHEME_REDIRECT)
    assert token["token_type"] == "Bearer"
    assert {"access_token", "id_token", "refresh_token"} <= set(token)


async def test_loopback_redirect_on_any_port(app, browser):
    with socket.socket() as sock:  # the port the OS gives the app's listener
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    token = await sign_in_natively(
        app, browser, f"http://127.0.0.1:{port}/callback", "http://127.0.0.1/callback"
    )
    assert "id_token" in token


async def test_a_native_app_without_pkce_is_refused(app, browser):
    client = await native_client(app, SCHEME_REDIRECT)
    client.code_challenge_method = None
    url, _ = client.create_authorization_url(f"{ISSUER}/authorize")
    response = await browser.client.get(url)
    found = query_of(response.headers["location"])
    assert response.headers["location"].startswith(SCHEME_REDIRECT)
    assert found["error"] == "invalid_request" and "code_challenge" in found["error_description"]
    await client.aclose()


@pytest.mark.parametrize(
    ("uri", "client_type"),
    [
        ("com.example.notes:/oauth2redirect", "confidential"),  # only public clients (7.1)
        ("notes:/oauth2redirect", "public"),  # not in reverse domain order
        ("javascript:alert(1)", "public"),
        ("data:text/html,hi", "public"),
        ("file:///etc/passwd", "public"),
        ("com.example.notes:/cb#frag", "public"),
    ],
)
async def test_scheme_rules_at_registration(app, uri, client_type):
    spec = ClientSpec(name="Notes", type=client_type, redirect_uris=[uri])
    with pytest.raises(ClientRejected):
        await create_client(app.state.oidc, spec)
