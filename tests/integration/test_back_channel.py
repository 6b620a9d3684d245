"""The back channel's two paths (``service.http.back_channel``): a form POST to /token, /revoke or
/introspect is answered before routing with the pairs the input guard checked; any other body
goes through the FastAPI route to the same handler. Both must read the same to an app, and the
outer layers (request ids, security headers, metrics) must apply to both."""

from __future__ import annotations

import re
import secrets

import pytest

from tests.conftest import asgi_client
from tests.rp import RelyingParty


def assert_protocol_error(response, status: int, error: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


async def test_a_form_and_a_multipart_body_get_the_same_answer(rp):
    async with rp.back_channel() as c:
        form = await c.post("/token", data={"grant_type": "bogus"})
        multipart = await c.post("/token", files={"grant_type": (None, "bogus")})
        as_json = await c.post("/token", json={"grant_type": "bogus"})
    assert_protocol_error(form, 400, "unsupported_grant_type")
    assert_protocol_error(multipart, 400, "unsupported_grant_type")
    assert form.json() == multipart.json()
    # A JSON body is not a token request (RFC 6749 3.2: form encoding): grant_type is missing.
    assert_protocol_error(as_json, 400, "invalid_request")
    assert "grant_type" in as_json.json()["error_description"]


async def test_a_repeated_parameter_is_refused_on_the_fast_path(rp):
    async with rp.back_channel() as c:
        response = await c.post(
            "/token",
            content=b"grant_type=client_credentials&grant_type=authorization_code",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert_protocol_error(response, 400, "invalid_request")
    assert "grant_type" in response.json()["error_description"]


@pytest.mark.parametrize("path", ["/token", "/revoke", "/introspect"])
async def test_every_back_channel_endpoint_refuses_a_wrong_client_in_rfc_6749_json(app, path):
    stranger = RelyingParty(app, "nobody", "wrong-secret")
    async with stranger.back_channel() as c:
        response = await c.post(
            path,
            data={"token": "x", "grant_type": "client_credentials"},
            auth=("nobody", "wrong-secret"),
        )
        other_method = await c.get(path)
    assert_protocol_error(response, 401, "invalid_client")
    assert response.headers["www-authenticate"].startswith("Basic")
    # The route is still registered: another method is a 405 naming the allowed one.
    assert other_method.status_code == 405
    assert "POST" in other_method.headers["allow"]


async def test_revocation_answers_an_empty_200_and_metrics_name_the_route(rp, browser, client):
    tokens = await rp.tokens(browser)
    async with rp.back_channel() as c:
        revoked = await c.post(
            "/revoke",
            data={"token": tokens["refresh_token"]},
            auth=(rp.client_id, rp.secret),
        )
    assert revoked.status_code == 200
    assert revoked.content == b""
    assert revoked.headers["cache-control"] == "no-store"
    assert (await rp.refresh(tokens["refresh_token"])).status_code == 400
    text = (await client.get("/metrics")).text
    assert re.search(
        r'sesame_http_requests_total\{method="POST",route="/revoke",status="200"\} [1-9]', text
    )
    assert re.search(
        r'sesame_http_requests_total\{method="POST",route="/token",status="200"\} [1-9]', text
    )


async def test_client_authentication_failures_are_budgeted_per_address_and_client(make_app):
    """Guessing a client's secret (RFC 6749 10.10): three failures a minute per address and
    client id, then 429 with Retry-After, for the right secret too and on the route's path
    (a multipart body) as well; the same address for another client, and another address for
    this client, are not affected."""
    app = make_app(
        client_auth_failures_per_ip=3,
        trusted_proxies=["127.0.0.1"],
        redis_prefix=f"sesame-test-{secrets.token_hex(4)}:",
    )
    target = await RelyingParty.register(app, grant_types=["client_credentials"])
    neighbour = await RelyingParty.register(app, grant_types=["client_credentials"])
    here = {"X-Forwarded-For": "203.0.113.9"}
    grant = {"grant_type": "client_credentials"}
    async with asgi_client(app) as c:

        async def token(rp, secret, headers, **body):
            return await c.post("/token", auth=(rp.client_id, secret), headers=headers, **body)

        wrong = [await token(target, f"guess-{i}", here, data=grant) for i in range(4)]
        right = await token(target, target.secret, here, data=grant)
        multipart = await token(target, target.secret, here, files={"grant_type": (None, "x")})
        neighbour_ok = await token(neighbour, neighbour.secret, here, data=grant)
        other_address = await token(
            target, target.secret, {"X-Forwarded-For": "198.51.100.3"}, data=grant
        )
        metrics = (await c.get("/metrics")).text
    assert [r.status_code for r in wrong] == [401, 401, 401, 429]
    assert_protocol_error(wrong[3], 429, "rate_limited")
    assert 1 <= int(wrong[3].headers["retry-after"]) <= 20
    assert right.status_code == 429
    assert multipart.status_code == 429
    assert neighbour_ok.status_code == 200, neighbour_ok.text
    assert other_address.status_code == 200, other_address.text
    assert 'sesame_rate_limit_hits_total{kind="client-auth"}' in metrics
