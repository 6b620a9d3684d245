"""Access levels (acr, OIDC Core 2, 3.1.2.1 and 5.5.1.1), on both backends: a passkey sign-in
is "phr", an email link "email"; an app asking for phr (acr_values, or an essential acr claim)
after an email sign-in gets the passkey-only sign-in page, and its code only after the
person's passkey; prompt=none hears login_required; amr stays accurate."""

from __future__ import annotations

import json

from tests.conftest import asgi_client
from tests.factories import Browser, signed_up
from tests.integration.test_email_signin import mailed_link
from tests.mail import deliver
from tests.rp import RelyingParty, query_of


async def test_a_passkey_sign_in_is_phr(app, browser):
    rp = await RelyingParty.register(app)
    tokens = await rp.tokens(browser, acr_values="phr")
    claims = await rp.id_claims(tokens["id_token"])
    assert claims["acr"] == "phr" and "passkey" in claims["amr"]
    # A passkey session meets a request for the lower level, and says the value asked for.
    lower = await rp.tokens(browser, acr_values="email")
    assert (await rp.id_claims(lower["id_token"]))["acr"] == "email"
    meta = (await browser.client.get("/.well-known/openid-configuration")).json()
    assert meta["acr_values_supported"] == ["phr", "email"]
    assert meta["claims_parameter_supported"] is True


async def test_an_email_session_steps_up_with_a_passkey(mail_app, smtp):
    async with asgi_client(mail_app) as first, asgi_client(mail_app) as second:
        _, auth, username = await signed_up(first)
        await deliver(mail_app)
        browser = Browser(second)
        account = (username, f"{username}@example.com", auth)
        mail = await mailed_link(mail_app, account, browser, smtp)
        assert (await browser.form(mail.path)).status_code == 303
        rp = await RelyingParty.register(mail_app)
        # Nothing asked: the email session is enough, and says so.
        plain = await rp.tokens(browser)
        claims = await rp.id_claims(plain["id_token"])
        assert claims["acr"] == "email" and claims["amr"] == ["email"]
        # prompt=none cannot step up.
        silent = await rp.start(browser, rp.new_flow(), acr_values="phr", prompt="none")
        assert query_of(silent.headers["location"])["error"] == "login_required"
        # An essential acr claim asks for the same as acr_values=phr.
        essential = {"id_token": {"acr": {"essential": True, "values": ["phr"]}}}
        flow = rp.new_flow()
        started = await rp.start(browser, flow, claims=json.dumps(essential))
        assert started.headers["location"].startswith("/signin?interaction=")
        interaction = started.headers["location"].split("interaction=")[1]
        page = await browser.client.get(started.headers["location"])
        assert 'id="passkey-required"' in page.text
        assert 'id="email-signin"' not in page.text  # no email link offered here
        # An email link does not satisfy it: back to the passkey-only page.
        resumed = await browser.client.get(f"/interaction/{interaction}")
        assert resumed.headers["location"] == f"/signin?interaction={interaction}"
        signed = await browser.signin(auth, next=f"/interaction/{interaction}")
        assert signed.status_code == 200, signed.text
        done = await rp.follow_to_app(
            browser, await browser.client.get(f"/interaction/{interaction}"), flow
        )
        tokens = await rp.exchange(done)
        stepped = await rp.id_claims(tokens.json()["id_token"])
        assert stepped["acr"] == "phr" and "passkey" in stepped["amr"]


async def test_unknown_levels_and_bad_claims(app, browser):
    rp = await RelyingParty.register(app)
    # Unknown acr_values are ignored (voluntary).
    assert "code" in (await rp.authorize(browser, acr_values="urn:example:gold")).params
    unmet = {"id_token": {"acr": {"essential": True, "value": "urn:example:gold"}}}
    answer = await rp.start(browser, rp.new_flow(), claims=json.dumps(unmet))
    assert query_of(answer.headers["location"])["error"] == "unmet_authentication_requirements"
    for bad in ("not json", "[1]", json.dumps({"id_token": []})):
        refused = await rp.start(browser, rp.new_flow(), claims=bad)
        assert query_of(refused.headers["location"])["error"] == "invalid_request", bad
