"""Pushed Authorization Requests (RFC 9126), on both backends: the app pushes its request
over the back channel and sends the browser to /authorize with only client_id and the
request_uri; the URI works once, for its client, for 60 seconds; clients (or the whole
server) may be held to PAR."""

from __future__ import annotations

import base64
import secrets
from urllib.parse import urlencode

from tests.conftest import asgi_client
from tests.rp import RelyingParty, query_of


async def push(rp: RelyingParty, flow, **extra) -> tuple[int, dict]:
    body = {**rp.authorize_params(flow), **extra}
    body.pop("client_id")
    raw = f"{rp.client_id}:{rp.secret}".encode()
    async with rp.back_channel() as c:
        answer = await c.post(
            "/par",
            data=body,
            headers={"Authorization": "Basic " + base64.b64encode(raw).decode()},
        )
    assert answer.headers["cache-control"] == "no-store"
    return answer.status_code, answer.json()


async def test_a_pushed_request_signs_in_once(app, browser):
    rp = await RelyingParty.register(app)
    flow = rp.new_flow()
    status, pushed = await push(rp, flow)
    assert status == 201 and pushed["expires_in"] == 60
    uri = pushed["request_uri"]
    assert uri.startswith("urn:ietf:params:oauth:request_uri:")
    query = urlencode({"client_id": rp.client_id, "request_uri": uri})
    first = await browser.client.get(f"/authorize?{query}")
    done = await rp.follow_to_app(browser, first, flow)
    assert done.params["state"] == flow.state
    tokens = await rp.exchange(done)
    assert tokens.status_code == 200, tokens.text
    claims = await rp.id_claims(tokens.json()["id_token"])
    assert claims["nonce"] == flow.nonce
    # Once: the same request_uri again is refused (shown, not redirected).
    again = await browser.client.get(f"/authorize?{query}")
    assert again.status_code == 400 and "invalid_request_uri" in again.text


async def test_request_uris_are_bound_to_their_client_and_expire(app, browser, clock):
    rp = await RelyingParty.register(app)
    other = await RelyingParty.register(app)
    _, pushed = await push(rp, rp.new_flow())
    stolen = urlencode({"client_id": other.client_id, "request_uri": pushed["request_uri"]})
    assert (await browser.client.get(f"/authorize?{stolen}")).status_code == 400
    _, late = await push(rp, rp.new_flow())
    clock.advance(61)
    expired = urlencode({"client_id": rp.client_id, "request_uri": late["request_uri"]})
    answer = await browser.client.get(f"/authorize?{expired}")
    assert answer.status_code == 400 and "invalid_request_uri" in answer.text
    made_up = urlencode(
        {"client_id": rp.client_id, "request_uri": "urn:ietf:params:oauth:request_uri:made-up"}
    )
    assert (await browser.client.get(f"/authorize?{made_up}")).status_code == 400


async def test_pushed_requests_are_checked_and_clients_authenticated(app):
    rp = await RelyingParty.register(app)
    flow = rp.new_flow()
    status, error = await push(rp, flow, redirect_uri="https://evil.example/cb")
    assert status == 400 and error["error"] == "invalid_request"
    status, error = await push(rp, flow, code_challenge_method="plain")
    assert status == 400 and error["error"] == "invalid_request"
    status, error = await push(rp, flow, request_uri="urn:ietf:params:oauth:request_uri:x")
    assert status == 400 and error["error"] == "invalid_request"
    wrong = RelyingParty(app, rp.client_id, "not-the-secret", rp.redirect_uri)
    status, error = await push(wrong, flow)
    assert status == 401 and error["error"] == "invalid_client"


async def test_a_client_held_to_par_cannot_skip_it(app, browser, make_app):
    rp = await RelyingParty.register(app, require_par=True)
    flow = rp.new_flow()
    direct = await rp.start(browser, flow)
    assert direct.status_code in (302, 303)
    assert query_of(direct.headers["location"])["error"] == "invalid_request"
    _, pushed = await push(rp, flow)
    query = urlencode({"client_id": rp.client_id, "request_uri": pushed["request_uri"]})
    done = await rp.follow_to_app(browser, await browser.client.get(f"/authorize?{query}"), flow)
    assert "code" in done.params
    everyone = make_app(require_par=True)
    async with asgi_client(everyone) as c:
        config = (await c.get("/.well-known/openid-configuration")).json()
    assert config["require_pushed_authorization_requests"] is True
    assert config["pushed_authorization_request_endpoint"].endswith("/par")


async def test_discovery_and_the_admin_api_name_par(app, client, make_app):
    config = (await client.get("/.well-known/openid-configuration")).json()
    assert config["require_pushed_authorization_requests"] is False
    admin_token = "admin-token-" + secrets.token_hex(16)
    async with asgi_client(make_app(admin_token=admin_token)) as admin:
        made = await admin.post(
            "/admin/clients",
            json={
                "name": "FAPI app",
                "redirect_uris": ["https://fapi.example/cb"],
                "require_pushed_authorization_requests": True,
            },
            headers={"Authorization": f"Bearer {admin_token}"},
        )
    assert made.status_code == 201, made.text
    assert made.json()["require_pushed_authorization_requests"] is True
