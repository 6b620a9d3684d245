"""The browser-id cookie (ceremonies are bound to it, CSRF tokens derive from it) is issued by
Sesame only and rotated at sign-in. Red-team finding: a planted 43-character value was adopted,
so whoever planted it knew the CSRF token of the person who then used that browser."""

from __future__ import annotations

import re

from tests.conftest import asgi_client
from tests.factories import Browser, signed_up
from tests.softauthn import SoftAuthenticator


def browser_cookie(response) -> str | None:
    for cookie in response.headers.get_list("set-cookie"):
        if cookie.startswith("sesame_browser="):
            return cookie.split(";", 1)[0].split("=", 1)[1]
    return None


def csrf_of(page) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


async def test_a_planted_browser_id_is_replaced_not_adopted(app, client):
    planted = "P" * 43
    client.cookies.set("sesame_browser", planted)
    page = await client.get("/signup")
    issued = browser_cookie(page)
    assert issued is not None and planted not in issued
    assert csrf_of(page) != app.state.ctx.keys.csrf_token(planted)
    # The token derived from the planted id is refused; the page's own works.
    forged = await client.post(
        "/signin/forget", data={"csrf_token": app.state.ctx.keys.csrf_token(planted)}
    )
    assert forged.status_code == 403
    assert (
        await client.post("/signin/forget", data={"csrf_token": csrf_of(page)})
    ).status_code == 303


async def test_only_what_a_browser_needs_makes_a_browser_id(client):
    """A page, form or ceremony makes the id (and sets the cookie); an app's back-channel call
    or a fetch of the keys or the discovery document makes none and sets no cookie."""
    assert browser_cookie(await client.post("/token", data={"grant_type": "nope"})) is None
    assert browser_cookie(await client.get("/jwks.json")) is None
    assert browser_cookie(await client.get("/.well-known/openid-configuration")) is None
    assert "sesame_browser" not in client.cookies
    page = await client.get("/signin")
    issued = browser_cookie(page)
    assert issued is not None
    # Kept from then on: the next page's CSRF token derives from the same id.
    again = await client.get("/signin")
    assert browser_cookie(again) is None and csrf_of(again) == csrf_of(page)


async def test_a_tampered_browser_cookie_is_replaced(client):
    first = browser_cookie(await client.get("/signup"))
    assert first is not None
    value, _, mac = first.rpartition(".")
    client.cookies.set("sesame_browser", f"{value}.{'A' * len(mac)}")
    again = browser_cookie(await client.get("/signup"))
    assert again is not None and again != first


async def test_the_browser_id_rotates_at_sign_in(app):
    """Someone who knew this browser's id (and so its CSRF token) before the sign-in cannot use
    it after: the id, and the token, change with the session."""
    async with asgi_client(app) as c:
        _, auth, _ = await signed_up(c)
        await Browser(c).form("/signout")
    async with asgi_client(app) as victim:
        before_page = await victim.get("/signin")
        known_token = csrf_of(before_page)
        browser = Browser(victim)
        signed_in = await browser.signin(auth)
        assert signed_in.status_code == 200, signed_in.text
        assert browser_cookie(signed_in) is not None
        assert (await victim.get("/account")).status_code == 200
        stale = await victim.post("/signout", data={"csrf_token": known_token})
        assert stale.status_code == 403
        assert (await victim.get("/account")).status_code == 200
        fresh_token = csrf_of(await victim.get("/account"))
        assert fresh_token != known_token
        done = await victim.post("/signout", data={"csrf_token": fresh_token})
        assert done.status_code == 303


async def test_sign_up_rotates_it_too(client):
    first = browser_cookie(await client.get("/signup"))
    browser = Browser(client)
    response = await browser.signup(SoftAuthenticator())
    assert response.status_code == 200
    rotated = browser_cookie(response)
    assert rotated is not None and rotated != first
