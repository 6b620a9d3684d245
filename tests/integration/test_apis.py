"""APIs as resources (RFC 8707, RFC 9068) and offline_access (OIDC Core 11), on both backends:
a registered API gets tokens whose audience is itself and whose scopes are its own, checks them
with joserfc and by introspection with its own secret, and refuses another API's tokens."""

from __future__ import annotations

import base64
import secrets

import pytest
from joserfc import jwt
from joserfc.jwt import JWTClaimsRegistry

from service.oidc import apis
from service.oidc.clients import ClientRejected, ClientSpec, create_client
from tests.conftest import asgi_client
from tests.rp import RelyingParty, query_of

ADMIN = "admin-token-" + "z" * 32


def audience() -> str:
    return f"https://api-{secrets.token_hex(4)}.example.com"


@pytest.fixture
async def orders(app):
    """An API with two scopes, its secret, and a web app allowed one of them."""
    api, secret = await apis.create_api(
        app.state.oidc, "Orders", audience(), ["orders:read", "orders:write"]
    )
    rp = await RelyingParty.register(
        app,
        api_access={api.audience: ["orders:read"]},
        grant_types=["authorization_code", "refresh_token", "client_credentials"],
    )
    return api, secret, rp


async def introspect(app, api_id: str, secret: str, token: str) -> dict:
    raw = base64.b64encode(f"{api_id}:{secret}".encode()).decode()
    async with asgi_client(app) as c:
        answer = await c.post(
            "/introspect", data={"token": token}, headers={"Authorization": f"Basic {raw}"}
        )
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_a_token_for_an_api_carries_its_audience_and_only_allowed_scopes(
    app, orders, browser
):
    api, secret, rp = orders
    body = await rp.tokens(
        browser, resource=api.audience, scope="openid profile orders:read orders:write"
    )
    # What the API does offline (RFC 9068 4): signature, typ, iss, aud, exp, then scope.
    decoded = jwt.decode(body["access_token"], await rp.jwks(), algorithms=["RS256"])
    assert decoded.header["typ"] == "at+jwt"
    JWTClaimsRegistry(
        leeway=60,
        iss={"essential": True, "value": "http://localhost:8000"},
        aud={"essential": True, "value": api.audience},
        exp={"essential": True},
    ).validate(decoded.claims)
    assert decoded.claims["scope"].split() == ["openid", "profile", "orders:read"]
    assert body["scope"] == "openid profile orders:read"
    # And by introspection with its own credentials.
    found = await introspect(app, api.api_id, secret, body["access_token"])
    assert found["active"] is True and found["aud"] == api.audience
    assert await introspect(app, api.api_id, secret, body["refresh_token"]) == {"active": False}
    # A token for this API is not one for Sesame's userinfo, nor for another API.
    assert (await rp.userinfo(body["access_token"])).status_code == 401
    other, other_secret = await apis.create_api(app.state.oidc, "Billing", audience(), ["pay"])
    assert await introspect(app, other.api_id, other_secret, body["access_token"]) == {
        "active": False
    }
    # The refresh keeps the audience; naming another resource is invalid_target.
    refreshed = await rp.refresh(body["refresh_token"], resource=api.audience)
    assert refreshed.status_code == 200, refreshed.text
    claims = jwt.decode(refreshed.json()["access_token"], await rp.jwks()).claims
    assert claims["aud"] == api.audience
    wrong = await rp.refresh(refreshed.json()["refresh_token"], resource=other.audience)
    assert wrong.json()["error"] == "invalid_target"


async def test_wrong_api_secret_is_refused(app, orders):
    api, _, _ = orders
    raw = base64.b64encode(f"{api.api_id}:wrong".encode()).decode()
    async with asgi_client(app) as c:
        answer = await c.post(
            "/introspect", data={"token": "x"}, headers={"Authorization": f"Basic {raw}"}
        )
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"


async def test_unknown_or_unallowed_resources_are_invalid_target(app, orders, browser):
    api, _, rp = orders
    stranger, _ = await apis.create_api(app.state.oidc, "Other", audience(), ["x"])
    for resource in ("https://nowhere.example", stranger.audience, "not a uri", "https://a#b"):
        response = await rp.start(browser, rp.new_flow(), resource=resource)
        assert response.status_code == 303
        assert query_of(response.headers["location"])["error"] == "invalid_target", resource
    flow = await rp.authorize(browser, resource=api.audience)
    exchanged = await rp.exchange(flow, resource=stranger.audience)
    assert exchanged.status_code == 400 and exchanged.json()["error"] == "invalid_target"


async def test_client_credentials_gets_api_scopes(app, orders):
    api, secret, rp = orders
    response = await rp.token(
        {
            "grant_type": "client_credentials",
            "resource": api.audience,
            "scope": "orders:read orders:write",
        }
    )
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "orders:read"
    token = response.json()["access_token"]
    assert jwt.decode(token, await rp.jwks()).claims["aud"] == api.audience
    assert (await introspect(app, api.api_id, secret, token))["scope"] == "orders:read"
    refused = await rp.token({"grant_type": "client_credentials", "resource": audience()})
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_target"


async def test_clients_may_only_be_given_registered_api_scopes(app, orders):
    api, _, _ = orders
    for access in ({audience(): ["orders:read"]}, {api.audience: ["orders:delete"]}):
        spec = ClientSpec(name="App", redirect_uris=["https://app.example/cb"], api_access=access)
        with pytest.raises(ClientRejected, match="API access"):
            await create_client(app.state.oidc, spec)


async def test_offline_access_outlives_the_browser_session(app, browser):
    rp = await RelyingParty.register(app, scopes=["openid", "offline_access"])
    offline = await rp.tokens(browser, scope="openid offline_access")
    assert offline["scope"] == "openid offline_access"
    online = await rp.tokens(browser, scope="openid")
    await browser.form("/signout")
    assert (await rp.refresh(online["refresh_token"])).json()["error"] == "invalid_grant"
    kept = await rp.refresh(offline["refresh_token"])
    assert kept.status_code == 200, kept.text
    async with asgi_client(app) as c:  # the client's own introspection agrees
        raw = base64.b64encode(f"{rp.client_id}:{rp.secret}".encode()).decode()
        found = await c.post(
            "/introspect",
            data={"token": kept.json()["refresh_token"]},
            headers={"Authorization": f"Basic {raw}"},
        )
    assert found.json()["active"] is True
    assert (await rp.userinfo(kept.json()["access_token"])).status_code == 200


async def test_offline_access_needs_consent_from_a_third_party_app(app, browser):
    rp = await RelyingParty.register(app, scopes=["openid", "offline_access"], first_party=False)
    # Without prompt=consent it is ignored (OIDC Core 11), not shown, not granted.
    page = await rp.start(browser, rp.new_flow(), scope="openid offline_access")
    assert page.status_code == 200 and "Allow Test app" in page.text
    assert 'id="scope-offline"' not in page.text
    asked = await rp.start(browser, rp.new_flow(), scope="openid offline_access", prompt="consent")
    assert 'id="scope-offline"' in asked.text


async def test_admin_api_registers_apis(make_app):
    app = make_app(admin_token=ADMIN)
    auth = {"Authorization": f"Bearer {ADMIN}"}
    body = {"name": "Orders", "audience": audience(), "scopes": ["orders:read"]}
    async with asgi_client(app) as c:
        created = await c.post("/admin/apis", json=body, headers=auth)
        assert created.status_code == 201 and created.json()["secret"]
        api_id = created.json()["api_id"]
        again = await c.post("/admin/apis", json=body, headers=auth)
        assert again.status_code == 409 and again.json()["error"] == "audience_taken"
        reserved = await c.post(
            "/admin/apis", json={**body, "audience": audience(), "scopes": ["openid"]}, headers=auth
        )
        assert reserved.status_code == 400 and reserved.json()["error"] == "invalid_api"
        client = await c.post(
            "/admin/clients",
            json={
                "name": "A",
                "redirect_uris": ["https://a.example/cb"],
                "api_access": {body["audience"]: ["orders:read"]},
            },
            headers=auth,
        )
        assert client.status_code == 201 and client.json()["api_access"] == {
            body["audience"]: ["orders:read"]
        }
        assert (await c.get(f"/admin/apis/{api_id}", headers=auth)).json()["scopes"] == [
            "orders:read"
        ]
        assert (await c.delete(f"/admin/apis/{api_id}", headers=auth)).status_code == 204
        assert (await c.get(f"/admin/apis/{api_id}", headers=auth)).status_code == 404


async def test_an_existing_client_is_given_api_access_origins_and_a_logout_uri(make_app):
    """Clients often come before the API: the admin API (PATCH) and ``sesame clients update``
    change what a registered client may do."""
    app = make_app(admin_token=ADMIN)
    auth = {"Authorization": f"Bearer {ADMIN}"}
    api, _ = await apis.create_api(app.state.oidc, "Orders", audience(), ["orders:read"])
    rp = await RelyingParty.register(app, grant_types=["client_credentials"], redirect_uris=[])
    ask = {"grant_type": "client_credentials", "resource": api.audience, "scope": "orders:read"}
    assert (await rp.token(ask)).json()["error"] == "invalid_target"
    async with asgi_client(app) as c:
        changed = await c.patch(
            f"/admin/clients/{rp.client_id}",
            json={
                "api_access": {api.audience: ["orders:read"]},
                "allowed_origins": ["https://spa.example"],
                "backchannel_logout_uri": "https://app.example/bcl",
            },
            headers=auth,
        )
        assert changed.status_code == 200, changed.text
        view = changed.json()
        assert view["api_access"] == {api.audience: ["orders:read"]}
        assert view["allowed_origins"] == ["https://spa.example"]
        assert view["backchannel_logout_uri"] == "https://app.example/bcl"
        assert (await rp.token(ask)).json()["scope"] == "orders:read"
        # Left out: unchanged; given: replaced whole.
        cleared = await c.patch(
            f"/admin/clients/{rp.client_id}",
            json={"allowed_origins": [], "backchannel_logout_uri": ""},
            headers=auth,
        )
        assert cleared.json()["allowed_origins"] == []
        assert cleared.json()["backchannel_logout_uri"] is None
        assert cleared.json()["api_access"] == {api.audience: ["orders:read"]}
        refused = await c.patch(
            f"/admin/clients/{rp.client_id}",
            json={"api_access": {api.audience: ["orders:delete"]}},
            headers=auth,
        )
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_client_metadata"
        missing = await c.patch("/admin/clients/nobody", json={}, headers=auth)
        assert missing.status_code == 404
