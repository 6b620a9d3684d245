"""prompt, max_age and id_token_hint; consent; RP-initiated logout."""

from __future__ import annotations

import re

import pytest

from tests.conftest import asgi_client
from tests.factories import Browser, signed_up
from tests.rp import RelyingParty, query_of


@pytest.fixture
async def signed_in(client):
    return await signed_up(client)


async def reauthenticate(rp, browser, auth, flow, response):
    """The browser was sent to sign in for this request: sign in again and come back."""
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith("/signin?interaction="), location
    interaction = location.split("interaction=")[1]
    page = await browser.client.get(location)
    assert page.status_code == 200  # the form shows even though a session exists
    signed = await browser.signin(auth, next=f"/interaction/{interaction}")
    assert signed.status_code == 200, signed.text
    return await rp.follow_to_app(
        browser, await browser.client.get(f"/interaction/{interaction}"), flow
    )


async def test_prompt_none_without_session_is_login_required_without_ui(rp, other_client):
    flow = rp.new_flow()
    response = await rp.start(Browser(other_client), flow, prompt="none")
    assert response.status_code == 303
    found = query_of(response.headers["location"])
    assert found["error"] == "login_required"
    assert found["state"] == flow.state
    assert found["iss"] == "http://localhost:8000"


async def test_prompt_none_with_session_is_silent_same_sub_and_auth_time(rp, signed_in):
    browser, _, _ = signed_in
    first = await rp.id_claims((await rp.tokens(browser))["id_token"])
    silent = await rp.id_claims((await rp.tokens(browser, prompt="none"))["id_token"])
    assert silent["sub"] == first["sub"]
    assert silent["auth_time"] == first["auth_time"]


async def test_id_token_hint_with_prompt_none(app, rp, signed_in, client):
    browser, _, _ = signed_in
    id_token = (await rp.tokens(browser))["id_token"]
    silent = await rp.tokens(browser, prompt="none", id_token_hint=id_token)
    assert (await rp.id_claims(silent["id_token"]))["sub"] == (await rp.id_claims(id_token))["sub"]
    # A hint naming someone else: login_required, not a token for the wrong person.
    async with asgi_client(app) as c2:
        other, _, _ = await signed_up(c2)
        response = await rp.start(other, rp.new_flow(), prompt="none", id_token_hint=id_token)
        assert query_of(response.headers["location"])["error"] == "login_required"
    forged = id_token[:-4] + ("AAAA" if not id_token.endswith("AAAA") else "BBBB")
    response = await rp.start(browser, rp.new_flow(), prompt="none", id_token_hint=forged)
    assert query_of(response.headers["location"])["error"] == "invalid_request"


async def test_prompt_login_forces_a_new_sign_in_with_later_auth_time(rp, signed_in, clock):
    browser, auth, _ = signed_in
    first = await rp.id_claims((await rp.tokens(browser))["id_token"])
    clock.advance(5)
    flow = rp.new_flow()
    flow = await reauthenticate(
        rp, browser, auth, flow, await rp.start(browser, flow, prompt="login")
    )
    again = await rp.id_claims((await rp.exchange(flow)).json()["id_token"])
    assert again["sub"] == first["sub"]
    assert again["auth_time"] >= first["auth_time"] + 5
    # Same browser, same person: the session id (sid) carries over.
    assert again["sid"] == first["sid"]


async def test_max_age_forces_sign_in_once_exceeded(rp, signed_in, clock):
    browser, auth, _ = signed_in
    first = await rp.id_claims((await rp.tokens(browser))["id_token"])
    large = await rp.id_claims((await rp.tokens(browser, max_age="86400"))["id_token"])
    assert large["auth_time"] == first["auth_time"]
    clock.advance(2)
    flow = rp.new_flow()
    response = await rp.start(browser, flow, max_age="1")
    flow = await reauthenticate(rp, browser, auth, flow, response)
    claims = await rp.id_claims((await rp.exchange(flow)).json()["id_token"])
    assert claims["auth_time"] >= first["auth_time"] + 2


async def test_max_age_with_prompt_none_is_login_required(rp, signed_in, clock):
    browser, _, _ = signed_in
    clock.advance(5)
    response = await rp.start(browser, rp.new_flow(), max_age="1", prompt="none")
    assert query_of(response.headers["location"])["error"] == "login_required"


async def third_party(app):
    return await RelyingParty.register(app, name="Elsewhere", first_party=False)


async def consent_page(rp, browser, flow, **extra):
    response = await rp.start(browser, flow, **extra)
    assert response.status_code == 200, response.text
    assert "Allow Elsewhere to use your Sesame account?" in response.text
    interaction = re.search(r'action="/interaction/([^/"]+)/consent"', response.text).group(1)
    csp = response.headers["content-security-policy"]
    assert "form-action 'self' https://app.example" in csp
    return interaction


async def decide(app, browser, decision: str):
    """A third-party app asks; the person answers its consent page with ``decision``."""
    rp = await third_party(app)
    flow = rp.new_flow()
    interaction = await consent_page(rp, browser, flow)
    answer = await browser.form(f"/interaction/{interaction}/consent", {"decision": decision})
    return rp, flow, answer


async def test_third_party_client_asks_consent_once(app, signed_in):
    browser, _, _ = signed_in
    rp, flow, allowed = await decide(app, browser, "allow")
    assert allowed.status_code == 303
    flow = await rp.follow_to_app(browser, allowed, flow)
    assert (await rp.exchange(flow)).status_code == 200
    # Remembered: no page the second time.
    assert (await rp.authorize(browser)).params["code"]
    # prompt=consent asks again.
    await consent_page(rp, browser, rp.new_flow(), prompt="consent")


async def test_consent_denied_is_access_denied(app, signed_in):
    browser, _, _ = signed_in
    _, flow, denied = await decide(app, browser, "deny")
    found = query_of(denied.headers["location"])
    assert found["error"] == "access_denied"
    assert found["state"] == flow.state


async def test_prompt_none_without_consent_is_consent_required(app, signed_in):
    browser, _, _ = signed_in
    rp = await third_party(app)
    response = await rp.start(browser, rp.new_flow(), prompt="none")
    assert query_of(response.headers["location"])["error"] == "consent_required"


async def test_consent_form_needs_csrf(app, signed_in):
    browser, _, _ = signed_in
    rp = await third_party(app)
    interaction = await consent_page(rp, browser, rp.new_flow())
    forged = await browser.client.post(
        f"/interaction/{interaction}/consent", data={"decision": "allow"}
    )
    assert forged.status_code == 403


async def test_account_page_lists_and_revokes_app_access(app, signed_in):
    browser, _, _ = signed_in
    rp, flow, allowed = await decide(app, browser, "allow")
    body = (await rp.exchange(await rp.follow_to_app(browser, allowed, flow))).json()
    account = (await browser.client.get("/account")).text
    assert f'data-client-id="{rp.client_id}"' in account
    assert "Elsewhere" in account
    revoked = await browser.form(f"/account/apps/{rp.client_id}/revoke")
    assert revoked.headers["location"] == "/account?done=app-revoked"
    assert (await rp.refresh(body["refresh_token"])).json()["error"] == "invalid_grant"
    assert (await rp.userinfo(body["access_token"])).status_code == 401
    await consent_page(rp, browser, rp.new_flow())


async def test_logout_with_id_token_hint_ends_the_session_and_returns(rp, signed_in):
    browser, _, _ = signed_in
    body = await rp.tokens(browser)
    response = await browser.client.get(
        "/logout",
        params={
            "id_token_hint": body["id_token"],
            "post_logout_redirect_uri": "https://app.example/bye",
            "state": "s1",
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "https://app.example/bye?state=s1"
    assert (await browser.client.get("/account")).status_code == 303
    assert (await rp.refresh(body["refresh_token"])).json()["error"] == "invalid_grant"


async def test_logout_refuses_an_unregistered_post_logout_uri(rp, signed_in):
    browser, _, _ = signed_in
    body = await rp.tokens(browser)
    for uri in ("https://evil.example/", "https://app.example/callback"):
        response = await browser.client.get(
            "/logout", params={"id_token_hint": body["id_token"], "post_logout_redirect_uri": uri}
        )
        assert response.status_code == 400
        assert "location" not in response.headers
    assert (await browser.client.get("/account")).status_code == 200
    no_client = await browser.client.get(
        "/logout", params={"post_logout_redirect_uri": "https://app.example/bye"}
    )
    assert no_client.status_code == 400


async def test_logout_without_hint_asks_for_confirmation(rp, signed_in):
    browser, _, _ = signed_in
    page = await browser.client.get(
        "/logout",
        params={
            "client_id": rp.client_id,
            "post_logout_redirect_uri": "https://app.example/bye",
            "state": "s2",
        },
    )
    assert page.status_code == 200
    assert "Sign out of Sesame?" in page.text
    assert (await browser.client.get("/account")).status_code == 200
    # A forged confirmation (no CSRF token) changes nothing.
    forged = await browser.client.post(
        "/logout", data={"confirm": "yes", "client_id": rp.client_id}
    )
    assert forged.status_code == 403
    assert (await browser.client.get("/account")).status_code == 200
    confirmed = await browser.form(
        "/logout",
        {
            "confirm": "yes",
            "client_id": rp.client_id,
            "post_logout_redirect_uri": "https://app.example/bye",
            "state": "s2",
        },
    )
    assert confirmed.headers["location"] == "https://app.example/bye?state=s2"
    assert (await browser.client.get("/account")).status_code == 303


async def test_logout_with_a_forged_hint_is_refused(signed_in):
    browser, _, _ = signed_in
    response = await browser.client.get("/logout", params={"id_token_hint": "a.b.c"})
    assert response.status_code == 400
    assert (await browser.client.get("/account")).status_code == 200
