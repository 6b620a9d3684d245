"""Browser apps (single-page apps): CORS on the back-channel endpoints for registered origins
only, never on the authorization endpoint or the hosted pages, and a shorter idle lifetime
for their refresh tokens."""

from __future__ import annotations

import pytest

from service.oidc.clients import ClientRejected, ClientSpec, create_client
from tests.conftest import asgi_client
from tests.rp import RelyingParty

SPA = "https://spa.example"
EVIL = "https://evil.example"


@pytest.fixture
async def spa(app) -> RelyingParty:
    return await RelyingParty.register(app, type="public", redirect_uris=[f"{SPA}/callback"])


async def preflight(client, path: str, origin: str, method: str = "POST"):
    return await client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )


async def test_a_public_clients_web_redirect_origins_are_allowed_by_default(app, spa):
    async with asgi_client(app) as client:
        for path, method in (("/token", "POST"), ("/userinfo", "GET"), ("/revoke", "POST")):
            answer = await preflight(client, path, SPA, method)
            assert answer.status_code == 204, path
            assert answer.headers["access-control-allow-origin"] == SPA
            assert method in answer.headers["access-control-allow-methods"]
            assert "authorization" in answer.headers["access-control-allow-headers"]
            assert "access-control-allow-credentials" not in answer.headers
            assert "Origin" in answer.headers["vary"]


async def test_other_origins_methods_and_endpoints_get_no_cors(app, spa):
    async with asgi_client(app) as client:
        refused = await preflight(client, "/token", EVIL)
        assert refused.status_code == 403
        assert "access-control-allow-origin" not in refused.headers
        assert (await preflight(client, "/token", SPA, "DELETE")).status_code == 403
        assert (await preflight(client, "/token", "null")).status_code == 403
        # A person reaches these by navigation: no CORS, ever.
        for path in ("/authorize", "/signin", "/account", "/introspect"):
            answer = await client.get(path, headers={"Origin": SPA})
            assert "access-control-allow-origin" not in answer.headers, path
            assert (await preflight(client, path, SPA, "GET")).status_code in {404, 405}, path


async def test_answers_carry_the_origin_only_for_allowed_origins(app, spa, browser):
    flow = await spa.authorize(browser)
    async with asgi_client(app) as client:
        token = await client.post(
            "/token", data=spa.code_grant(flow, client_id=spa.client_id), headers={"Origin": SPA}
        )
        assert token.status_code == 200, token.text
        assert token.headers["access-control-allow-origin"] == SPA
        assert "Origin" in token.headers["vary"]
        access = token.json()["access_token"]
        refused = await client.get(
            "/userinfo", headers={"Origin": SPA, "Authorization": "Bearer nope"}
        )
        assert refused.status_code == 401
        # The script may read why its token was refused.
        assert "www-authenticate" in refused.headers["access-control-expose-headers"]
        other = await client.get(
            "/userinfo", headers={"Origin": EVIL, "Authorization": f"Bearer {access}"}
        )
        assert "access-control-allow-origin" not in other.headers
        for path in ("/.well-known/openid-configuration", "/jwks.json"):
            public = await client.get(path, headers={"Origin": SPA})
            assert public.headers["access-control-allow-origin"] == SPA, path


async def test_a_browser_apps_refresh_token_lapses_sooner(app, spa, rp, browser, clock):
    spa_tokens = await spa.tokens(browser)
    server_tokens = await rp.tokens(browser)
    idle = app.state.oidc.settings.browser_refresh_idle_seconds
    assert idle < app.state.oidc.settings.refresh_idle_seconds
    clock.advance(idle + 1)
    assert (await spa.refresh(spa_tokens["refresh_token"])).json()["error"] == "invalid_grant"
    assert (await rp.refresh(server_tokens["refresh_token"])).status_code == 200


async def test_a_used_refresh_token_of_a_browser_app_still_rotates(spa, browser):
    first = await spa.tokens(browser)
    second = (await spa.refresh(first["refresh_token"])).json()
    assert second["refresh_token"] != first["refresh_token"]
    again = await spa.refresh(first["refresh_token"])
    assert again.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    "origin",
    [
        "https://spa.example/",
        "https://spa.example/app",
        "http://spa.example",
        "https://*.example",
        "null",
        "https://spa.example:99999",
    ],
)
async def test_allowed_origins_must_be_origins(app, origin):
    spec = ClientSpec(
        name="SPA", type="public", redirect_uris=[f"{SPA}/cb"], allowed_origins=[origin]
    )
    with pytest.raises(ClientRejected, match="must be an origin"):
        await create_client(app.state.oidc, spec)


async def test_native_and_confidential_clients_have_no_default_origins(app):
    native = ClientSpec(name="CLI", type="public", redirect_uris=["http://127.0.0.1/cb"])
    server = ClientSpec(name="Server", redirect_uris=[f"{SPA}/cb"])
    explicit = ClientSpec(
        name="BFF", redirect_uris=[f"{SPA}/cb"], allowed_origins=["https://App.Example:8443"]
    )
    rows = [(await create_client(app.state.oidc, spec))[0] for spec in (native, server, explicit)]
    assert [row.allowed_origins for row in rows] == ["", "", "https://app.example:8443"]
