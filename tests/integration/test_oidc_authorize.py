"""The authorization endpoint: the conformance suite's basic OP behaviours and the redirect-URI
and PKCE rules of RFC 9700, on both backends."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.factories import Browser, signed_up
from tests.rp import REDIRECT, RelyingParty, query_of
from tests.softauthn import SoftAuthenticator


async def test_happy_path_id_token_and_state(app, rp, browser):
    body = await rp.tokens(browser)
    flow = body["_flow"]
    assert flow.params["state"] == flow.state
    assert flow.params["iss"] == "http://localhost:8000"  # RFC 9207
    assert body["token_type"] == "Bearer"
    claims = await rp.id_claims(body["id_token"])
    for name in ("iss", "aud", "exp", "iat", "sub", "nonce", "auth_time", "amr", "sid", "at_hash"):
        assert name in claims, name
    assert claims["iss"] == "http://localhost:8000"
    assert claims["aud"] == rp.client_id
    assert claims["nonce"] == flow.nonce
    assert claims["amr"] == ["passkey"]
    assert claims["exp"] > claims["iat"]


async def test_request_without_nonce_succeeds(rp, browser):
    body = await rp.tokens(browser, nonce="")
    assert "nonce" not in await rp.id_claims(body["id_token"])


async def test_missing_response_type_redirects_with_invalid_request_and_iss(rp, browser):
    flow = rp.new_flow()
    response = await rp.start(browser, flow, response_type="")
    assert response.status_code == 303
    params = query_of(response.headers["location"])
    assert response.headers["location"].startswith(REDIRECT)
    assert params["error"] == "invalid_request"
    assert params["state"] == flow.state
    assert params["iss"] == "http://localhost:8000"
    assert "code" not in params


@pytest.mark.parametrize("response_type", ["token", "id_token", "code id_token", "none"])
async def test_only_the_code_flow(rp, browser, response_type):
    response = await rp.start(browser, rp.new_flow(), response_type=response_type)
    assert query_of(response.headers["location"])["error"] == "unsupported_response_type"


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://evil.example/callback",
        "https://app.example/callback/",
        "https://app.example/callback?x=1",
        "https://app.example@evil.example/callback",
        "https://app.example/callback#frag",
        "https://APP.example/callback",
        "https://app.example/callback%2F..%2Fevil",
        "javascript:alert(1)//https://app.example/callback",
    ],
)
async def test_unregistered_redirect_uri_is_an_error_page_never_a_redirect(
    rp, browser, redirect_uri
):
    for prompt in (None, "none"):
        response = await rp.start(browser, rp.new_flow(), redirect_uri=redirect_uri, prompt=prompt)
        assert response.status_code == 400
        assert "location" not in response.headers
        assert "has not registered" in response.text


async def test_query_string_must_match_what_was_registered(app, browser):
    rp = await RelyingParty.register(app, redirect_uris=["https://app.example/cb?tenant=1"])
    flow = await rp.authorize(browser)
    assert flow.location.startswith("https://app.example/cb?tenant=1&code=")
    bad = await rp.start(browser, rp.new_flow(), redirect_uri="https://app.example/cb?tenant=2")
    assert bad.status_code == 400


async def test_missing_redirect_uri_is_an_error_page_with_two_registered(app, browser):
    rp = await RelyingParty.register(
        app, redirect_uris=["https://app.example/a", "https://app.example/b"]
    )
    response = await rp.start(browser, rp.new_flow(), redirect_uri="")
    assert response.status_code == 400
    assert "location" not in response.headers


async def test_unknown_client_is_an_error_page(rp, browser):
    response = await rp.start(browser, rp.new_flow(), client_id="nobody")
    assert response.status_code == 400
    assert "not registered" in response.text


async def test_loopback_ip_redirect_may_use_any_port(app, browser):
    rp = await RelyingParty.register(
        app, type="public", redirect_uris=["http://127.0.0.1/callback"]
    )
    rp.redirect_uri = "http://127.0.0.1:53123/callback"
    flow = await rp.authorize(browser)
    assert flow.location.startswith("http://127.0.0.1:53123/callback?code=")
    assert (await rp.exchange(flow)).status_code == 200
    other_path = await rp.start(browser, rp.new_flow(), redirect_uri="http://127.0.0.1:5/other")
    assert other_path.status_code == 400


async def test_authorization_endpoint_accepts_post(rp, browser):
    flow = rp.new_flow()
    response = await browser.client.post("/authorize", data=rp.authorize_params(flow))
    flow = await rp.follow_to_app(browser, response, flow)
    assert (await rp.exchange(flow)).status_code == 200


async def test_scope_order_parameter_order_and_unknown_parameters_do_not_matter(rp, browser):
    flow = rp.new_flow()
    params = rp.authorize_params(
        flow,
        scope="email unknown_scope openid profile",
        display="popup",
        ui_locales="fr-CA fr en",
        claims_locales="fr",
        acr_values="urn:mace:incommon:iap:silver",
        claims='{"id_token":{"name":{"essential":true}}}',
        something_else="x",
    )
    query = urlencode(list(reversed(params.items())))
    flow = await rp.follow_to_app(browser, await browser.client.get(f"/authorize?{query}"), flow)
    body = (await rp.exchange(flow)).json()
    assert body["scope"] == "openid profile email"
    info = (await rp.userinfo(body["access_token"])).json()
    assert {"sub", "email", "preferred_username", "name"} <= set(info)


@pytest.mark.parametrize("display", ["page", "popup"])
async def test_display_values_are_accepted(rp, browser, display):
    assert (await rp.authorize(browser, display=display)).params["code"]


async def test_scope_without_openid_is_invalid_scope(rp, browser):
    response = await rp.start(browser, rp.new_flow(), scope="profile")
    assert query_of(response.headers["location"])["error"] == "invalid_scope"


async def test_unsigned_and_referenced_request_objects_are_refused(rp, browser):
    # alg none, from a client with no keys: shown, not redirected (its redirect URI unchecked).
    response = await rp.start(browser, rp.new_flow(), request="eyJhbGciOiJub25lIn0.e30.")
    assert response.status_code == 400 and "invalid_request_object" in response.text
    response = await rp.start(browser, rp.new_flow(), request_uri="https://app.example/req")
    assert query_of(response.headers["location"])["error"] == "request_uri_not_supported"


async def test_repeated_parameters_are_refused(rp, browser):
    flow = rp.new_flow()
    params = [*list(rp.authorize_params(flow).items()), ("scope", "openid")]
    response = await browser.client.get(f"/authorize?{urlencode(params)}")
    found = query_of(response.headers["location"])
    assert found["error"] == "invalid_request"
    assert "scope" in found["error_description"]
    twice = [*list(rp.authorize_params(flow).items()), ("redirect_uri", "https://evil.example/")]
    response = await browser.client.get(f"/authorize?{urlencode(twice)}")
    assert response.status_code == 400
    assert "location" not in response.headers


async def test_public_client_must_use_pkce(app, browser):
    rp = await RelyingParty.register(app, type="public")
    response = await rp.start(browser, rp.new_flow(pkce=False))
    found = query_of(response.headers["location"])
    assert found["error"] == "invalid_request"
    assert "PKCE" in found["error_description"]
    flow = await rp.authorize(browser)
    assert (await rp.exchange(flow)).status_code == 200  # token_endpoint_auth_method none


@pytest.mark.parametrize(
    ("challenge", "method"),
    [
        ("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "plain"),
        ("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", ""),
        ("short", "S256"),
        ("", "S256"),
    ],
)
async def test_pkce_challenge_must_be_s256(rp, browser, challenge, method):
    response = await rp.start(
        browser, rp.new_flow(pkce=False), code_challenge=challenge, code_challenge_method=method
    )
    assert query_of(response.headers["location"])["error"] == "invalid_request"


async def test_bad_prompt_and_max_age_are_invalid_request(rp, browser):
    for extra in ({"prompt": "none login"}, {"prompt": "sometimes"}, {"max_age": "-1"}):
        response = await rp.start(browser, rp.new_flow(), **extra)
        assert query_of(response.headers["location"])["error"] == "invalid_request", extra


async def test_not_signed_in_goes_to_sign_in_with_the_app_named_and_hint_prefilled(
    rp, other_client
):
    browser = Browser(other_client)
    response = await rp.start(browser, rp.new_flow(), login_hint="ada")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/signin?interaction=")
    page = await browser.client.get(response.headers["location"])
    assert "to continue to <strong>Test app</strong>" in page.text
    assert 'value="ada"' in page.text


async def test_interaction_is_bound_to_the_browser_that_started_it(rp, client, other_client):
    response = await rp.start(Browser(other_client), rp.new_flow())
    interaction = response.headers["location"].split("interaction=")[1]
    stranger, _, _ = await signed_up(client)
    stolen = await stranger.client.get(f"/interaction/{interaction}")
    assert stolen.status_code == 400
    assert "another browser" in stolen.text


async def test_sign_in_during_the_request_returns_to_the_app(rp, app, other_client, client):
    # An account exists (made in one browser); a fresh browser signs in through the app.
    _owner, auth, username = await signed_up(client)
    browser = Browser(other_client)
    flow = rp.new_flow()
    started = await rp.start(browser, flow)
    interaction = started.headers["location"].split("interaction=")[1]
    signed_in = await browser.signin(auth, next=f"/interaction/{interaction}")
    assert signed_in.json()["redirect"] == f"/interaction/{interaction}"
    resumed = await browser.client.get(f"/interaction/{interaction}")
    flow = await rp.follow_to_app(browser, resumed, flow)
    body = (await rp.exchange(flow)).json()
    info = (await rp.userinfo(body["access_token"])).json()
    assert info["preferred_username"] == username
    # The interaction is spent: the same URL cannot mint a second code.
    again = await browser.client.get(f"/interaction/{interaction}")
    assert again.status_code == 400


async def test_sign_up_during_the_request_returns_to_the_app(rp, other_client):
    browser = Browser(other_client)
    flow = rp.new_flow()
    started = await rp.start(browser, flow)
    interaction = started.headers["location"].split("interaction=")[1]
    page = await browser.client.get(f"/signup?interaction={interaction}")
    assert f'data-next="/interaction/{interaction}"' in page.text
    begun = await browser.begin_signup()
    credential = SoftAuthenticator().create(begun.json()["publicKey"])
    done = await browser.post(
        "/signup/finish",
        {
            "ceremony": begun.json()["ceremony"],
            "credential": credential,
            "next": f"/interaction/{interaction}",
        },
    )
    assert done.json()["redirect"] == f"/interaction/{interaction}"
    flow = await rp.follow_to_app(
        browser, await browser.client.get(f"/interaction/{interaction}"), flow
    )
    assert (await rp.exchange(flow)).status_code == 200


async def test_cancelling_sign_in_returns_access_denied(rp, other_client):
    browser = Browser(other_client)
    flow = rp.new_flow()
    started = await rp.start(browser, flow)
    interaction = started.headers["location"].split("interaction=")[1]
    response = await browser.form(f"/interaction/{interaction}/abort")
    found = query_of(response.headers["location"])
    assert found["error"] == "access_denied"
    assert found["state"] == flow.state


async def test_authorization_redirects_use_303_and_no_cors(rp, browser):
    flow = rp.new_flow()
    response = await browser.client.post("/authorize", data=rp.authorize_params(flow))
    assert response.status_code == 303
    assert "access-control-allow-origin" not in response.headers
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
