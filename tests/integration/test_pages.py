"""Hosted pages, details a person notices (issue 14's defects): the favicon, the reason for a
sign-in, scopes in words, who is signed in on the consent page, sign-out in its own card."""

from __future__ import annotations

import re

from tests.factories import signed_up
from tests.integration.test_oidc_sessions import decide, third_party


async def test_the_favicon_is_served(client):
    icon = await client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/x-icon"
    assert icon.content[:4] == b"\x00\x00\x01\x00" and b"PNG" in icon.content[:40]
    page = (await client.get("/signin")).text
    linked = re.search(r'<link rel="icon" href="([^"]+)"', page).group(1)
    svg = await client.get(linked)
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")


async def test_a_page_that_needs_a_session_says_why_it_asks_for_a_sign_in(client):
    sent = await client.get("/account")
    assert sent.status_code == 303 and sent.headers["location"] == "/signin?next=/account"
    asked = await client.get(sent.headers["location"])
    assert "Please sign in to see your account." in asked.text
    assert 'id="signin-needed"' not in (await client.get("/signin")).text


async def test_the_account_page_names_scopes_in_words_and_signs_out_apart(app, client):
    browser, _, _ = await signed_up(client)
    rp, flow, allowed = await decide(app, browser, "allow")
    await rp.exchange(await rp.follow_to_app(browser, allowed, flow))
    page = (await client.get("/account")).text
    shown = re.search(r'<p class="muted app-scope">(.*?)</p>', page, re.S).group(1)
    assert "your name and username" in shown and "your email address" in shown
    assert "openid" not in shown and "profile" not in shown
    apps_card = page[page.index("Apps you have allowed") : page.index('id="sessions"')]
    assert "signout-everywhere" not in apps_card
    assert "signout-everywhere" in page[page.index('id="sessions"') :]


async def test_the_consent_page_says_who_is_signed_in(app, client):
    browser, _, username = await signed_up(client, name="Ada")
    rp = await third_party(app)
    asked = await rp.start(browser, rp.new_flow())
    assert asked.status_code == 200
    page = asked.text
    said = re.search(r'<p id="signed-in-as">(.*?)</p>', page, re.S).group(1)
    assert "Ada" in said and username in said
    switch = re.search(r'href="(/signin\?interaction=[^"]+)"', said).group(1)
    other = await client.get(switch)
    assert other.status_code == 200 and "Sign in" in other.text
