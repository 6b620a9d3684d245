"""The passkey ceremonies' JSON POSTs answered before FastAPI's router (``service.http.direct``,
``service.http.ceremonies.DIRECT``): a well-formed sign-up or sign-in never reaches the
dependency solver, yet keeps its CSRF check, its errors and the outer layers (security headers,
request ids, metrics); a body the route's model refuses goes on to the route, whose answer is
unchanged."""

from __future__ import annotations

import re

import fastapi.routing
import pytest

from tests.factories import Browser
from tests.softauthn import SoftAuthenticator


@pytest.fixture
def solved(monkeypatch) -> list[str]:
    """The paths FastAPI solved dependencies for (its route handler calls the module's
    ``solve_dependencies`` for every request it serves)."""
    paths: list[str] = []
    original = fastapi.routing.solve_dependencies

    async def counting(*args, **kwargs):
        paths.append(kwargs["request"].url.path)
        return await original(*args, **kwargs)

    monkeypatch.setattr(fastapi.routing, "solve_dependencies", counting)
    return paths


async def test_sign_up_and_sign_in_skip_the_router(client, other_client, solved):
    auth = SoftAuthenticator()
    signup = await Browser(client).signup(auth)
    assert signup.status_code == 200, signup.text
    browser = Browser(other_client)
    await browser.csrf()  # the page is a FastAPI route
    solved.clear()
    signin = await browser.signin(auth)
    assert signin.status_code == 200, signin.text
    assert signin.json()["redirect"] == "/account"
    assert solved == []
    assert any(c.startswith("sesame_session=") for c in signin.headers.get_list("set-cookie"))
    assert signin.headers["x-content-type-options"] == "nosniff"
    assert re.fullmatch(r"[0-9a-f]{32}", signin.headers["x-request-id"])
    assert (await other_client.get("/account")).status_code == 200
    metrics = (await client.get("/metrics")).text
    for route in ("/signup/begin", "/signup/finish", "/signin/begin", "/signin/finish"):
        assert re.search(
            rf'sesame_http_requests_total\{{method="POST",route="{route}",status="200"\}} [1-9]',
            metrics,
        ), route


async def test_the_direct_path_keeps_csrf_and_errors(client, solved):
    browser = Browser(client)
    await browser.csrf()
    solved.clear()
    no_token = await client.post("/signin/begin", json={}, headers={"Accept": "application/json"})
    cross_site = await browser.post("/signin/begin", headers={"Origin": "https://evil.example"})
    unknown = await browser.post("/signin/finish", {"ceremony": "nope", "credential": {}})
    assert solved == []
    assert no_token.status_code == cross_site.status_code == 403
    assert no_token.json()["error"] == cross_site.json()["error"] == "csrf_failed"
    assert unknown.status_code == 400
    assert unknown.json()["error"] == "ceremony_expired"


async def test_a_body_the_model_refuses_goes_to_the_route(client, solved):
    browser = Browser(client)
    await browser.csrf()
    solved.clear()
    wrong = await browser.post("/signin/finish", {"ceremony": 5, "credential": "x"})
    long_name = await browser.post("/signin/begin", {"username": "x" * 101})
    as_text = await client.post(
        "/signin/begin",
        content=b"{}",
        headers={"X-CSRF-Token": await browser.csrf(), "Content-Type": "text/json"},
    )
    assert solved == ["/signin/finish", "/signin/begin", "/signin/begin"]
    assert wrong.status_code == long_name.status_code == 400
    assert wrong.json()["error"] == long_name.json()["error"] == "invalid_request"
    assert "ceremony" in wrong.json()["message"]
    assert "username" in long_name.json()["message"]
    assert as_text.status_code == 400
