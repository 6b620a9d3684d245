"""Real relying-party libraries sign people in through a running Sesame, in Chromium with a
virtual authenticator: Authlib (the demo app, Python, public client + PKCE) and openid-client
(Node, confidential client with client_secret_basic). The libraries do every validation."""

from __future__ import annotations

import json
import re
import secrets
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.async_api import expect

from tests.e2e.conftest import Authenticator
from tests.e2e.test_passkeys_in_browser import sign_up

pytestmark = pytest.mark.browser


async def json_in(page, selector: str):
    return json.loads(await page.locator(selector).inner_text())


async def signed_in_through(context, live_server, app_url: str, login_path: str, prefix: str):
    """A new person with a passkey goes to the app's ``login_path`` and comes back to its
    callback: their username, the app's ``#result`` and the query of the first /authorize."""
    page = await context.new_page()
    await Authenticator.attach(page)
    username = f"{prefix}{secrets.token_hex(3)}"
    await sign_up(page, live_server, username)
    await page.wait_for_url(re.compile(r"/account"))
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url) if "/authorize?" in r.url else None)
    await page.goto(app_url + login_path)
    await page.wait_for_url(re.compile(re.escape(app_url) + r"/cb\?"))
    result = await json_in(page, "#result")
    assert "error" not in result and "crash" not in result, result
    return username, result, parse_qs(urlsplit(seen[0]).query)


async def test_authlib_demo_app_full_flow(live_server, demo_app, context):
    page = await context.new_page()
    await Authenticator.attach(page)
    await page.goto(demo_app.url)
    await page.get_by_role("link", name="Sign in with Sesame").click()
    await page.wait_for_url(re.compile(r"/signin\?interaction="))
    await expect(page.locator(".app-context")).to_have_text("to continue to Sesame demo app")

    # A newcomer: create the account on the way, then consent, then back at the app.
    await page.get_by_role("link", name="Create an account").click()
    username = f"rp{secrets.token_hex(3)}"
    await page.get_by_label("Name (optional)").fill("Rita Parker")
    await page.get_by_label("Username", exact=True).fill(username)
    await page.get_by_label("Email", exact=True).fill(f"{username}@example.com")
    await page.get_by_role("button", name="Create account with a passkey").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Allow Sesame demo app to use your Sesame account?"
    )
    await page.get_by_role("button", name="Allow").click()
    await expect(page.locator("#greeting")).to_have_text(f"Signed in as {username}")
    claims = await json_in(page, "#claims pre")
    assert claims["iss"] == live_server.url
    assert claims["aud"] == demo_app.client_id
    assert claims["amr"] == ["passkey"]
    assert {"sub", "nonce", "auth_time", "sid", "exp", "iat", "at_hash"} <= set(claims)
    info = await json_in(page, "#userinfo pre")
    assert info["sub"] == claims["sub"]
    assert info["email"] == f"{username}@example.com"
    assert info["name"] == "Rita Parker"

    await page.get_by_role("button", name="Refresh tokens").click()
    await expect(page.locator("#refreshes")).to_have_text("1")

    # prompt=none with a Sesame session and consent: silent, same person and auth_time.
    await page.locator("#silent").click()
    await expect(page.locator("#greeting")).to_have_text(f"Signed in as {username}")
    silent = await json_in(page, "#claims pre")
    assert silent["sub"] == claims["sub"] and silent["auth_time"] == claims["auth_time"]

    # max_age=0: Sesame asks for the passkey again, and auth_time moves.
    await page.wait_for_timeout(1100)
    await page.locator("#again").click()
    await page.wait_for_url(re.compile(r"/signin\?interaction="))
    await page.get_by_role("button", name="Sign in with a passkey").click()
    await expect(page.locator("#greeting")).to_have_text(f"Signed in as {username}")
    again = await json_in(page, "#claims pre")
    assert again["sub"] == claims["sub"] and again["auth_time"] > claims["auth_time"]

    # Sign out: the app revokes its refresh token and sends the browser to Sesame's logout.
    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url(re.compile(re.escape(demo_app.url) + r"/(\?.*)?$"))
    await expect(page.get_by_text("You are not signed in.")).to_be_visible()
    await page.goto(f"{live_server.url}/account")
    await page.wait_for_url(re.compile(r"/signin"))

    # prompt=none without a session: login_required, no Sesame page shown.
    await page.goto(demo_app.url)
    await page.locator("#silent").click()
    await expect(page.locator("#error")).to_contain_text("login_required")


async def test_openid_client_full_flow(live_server, node_app, context):
    page = await context.new_page()
    await Authenticator.attach(page)
    username = f"oc{secrets.token_hex(3)}"
    await sign_up(page, live_server, username)
    await page.wait_for_url(re.compile(r"/account"))

    await page.goto(f"{node_app.url}/login")
    await page.wait_for_url(re.compile(re.escape(node_app.url) + r"/cb\?"))
    result = await json_in(page, "#result")
    assert "error" not in result, result
    assert result["claims"]["iss"] == live_server.url
    assert result["claims"]["aud"] == node_app.client_id
    assert result["userinfo"]["preferred_username"] == username
    assert result["refreshed"] is True
    assert result["refreshedSub"] == result["claims"]["sub"]
    assert result["afterRevoke"] == "invalid_grant"

    await page.locator("#logout").click()
    await page.wait_for_url(re.compile(re.escape(node_app.url) + r"/bye\?"))
    assert (await json_in(page, "#result")) == {"signedOut": True, "state": "bye-state"}

    await page.goto(f"{node_app.url}/login?prompt=none")
    await page.wait_for_url(re.compile(re.escape(node_app.url) + r"/cb\?"))
    assert (await json_in(page, "#result"))["error"] == "login_required"

    # max_age=0 after signing out: the sign-in page, then the library checks auth_time.
    await page.goto(f"{node_app.url}/login?max_age=0")
    await page.wait_for_url(re.compile(r"/signin\?interaction="))
    await page.get_by_role("button", name="Sign in with a passkey").click()
    await page.wait_for_url(re.compile(re.escape(node_app.url) + r"/cb\?"))
    again = await json_in(page, "#result")
    assert again["claims"]["sub"] == result["claims"]["sub"]
    assert again["claims"]["auth_time"] >= result["claims"]["auth_time"]


async def test_openid_client_pushes_its_request(live_server, node_app, context):
    """RFC 9126 with an independent library: openid-client pushes the request to /par and the
    browser carries only client_id and request_uri; the library validates the rest."""
    _, result, query = await signed_in_through(
        context, live_server, node_app.url, "/login?par=1", "par"
    )
    assert result["claims"]["aud"] == node_app.client_id and result["refreshed"] is True
    assert set(query) == {"client_id", "request_uri"}
    assert query["request_uri"][0].startswith("urn:ietf:params:oauth:request_uri:")


async def test_demo_app_says_in_words_that_the_person_declined(live_server, demo_app, context):
    """'Deny' on the consent page: the demo app explains it (no raw error code alone), and
    its pages fit a phone."""
    page = await context.new_page()
    await page.set_viewport_size({"width": 390, "height": 844})
    await Authenticator.attach(page)
    await page.goto(demo_app.url)
    await page.get_by_role("link", name="Sign in with Sesame").click()
    await page.get_by_role("link", name="Create an account").click()
    username = f"no{secrets.token_hex(3)}"
    await page.get_by_label("Username", exact=True).fill(username)
    await page.get_by_label("Email", exact=True).fill(f"{username}@example.com")
    await page.get_by_role("button", name="Create account with a passkey").click()
    await page.get_by_role("button", name="Deny").click()
    await expect(page.locator("#error")).to_have_text(
        "You chose not to share your account with the demo app. Nothing was shared. (access_denied)"
    )
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390


async def test_a_fapi_client_with_openid_client(live_server, fapi_app, context):
    """Issue 17 end to end with an independent library: openid-client, registered with the
    fapi2 profile, authenticates with private_key_jwt (Sesame fetches its jwks_uri), pushes its
    request, and proves a DPoP key at /token, at refresh and at UserInfo, fetching Sesame's
    nonce on its own. The person signs in with a passkey; the app asked for acr phr."""
    username, result, query = await signed_in_through(
        context, live_server, fapi_app.url, "/login?acr=phr", "fapi"
    )
    assert result["claims"]["aud"] == fapi_app.client_id
    assert result["claims"]["acr"] == "phr" and "passkey" in result["claims"]["amr"]
    assert result["userinfo"]["preferred_username"] == username
    assert result["tokenType"].lower() == result["refreshedType"].lower() == "dpop"
    assert result["sameRefreshToken"] is True  # FAPI 2.0: no rotation
    assert result["asBearer"] != "accepted"
    assert set(query) == {"client_id", "request_uri"}
