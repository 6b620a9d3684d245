"""The hosted pages in real Chromium, with a virtual authenticator, on both backends."""

from __future__ import annotations

import re
import secrets

import pytest
from playwright.async_api import expect

from service.db import users
from service.db.engine import Database
from tests.e2e.conftest import Authenticator

pytestmark = pytest.mark.browser


async def user_exists(server, username: str) -> bool:
    db = Database(server.backend.database_url)
    try:
        async with db.session() as session:
            return await users.by_username_key(session, username.lower()) is not None
    finally:
        await db.dispose()


async def sign_up(page, server, username: str, name: str = "Ada Lovelace") -> None:
    await page.goto(f"{server.url}/signup")
    await page.get_by_label("Name (optional)").fill(name)
    await page.get_by_label("Username", exact=True).fill(username)
    await page.get_by_label("Email", exact=True).fill(f"{username}@example.com")
    await page.get_by_role("button", name="Create account with a passkey").click()


async def signed_up_page(context, server, prefix: str):
    """A page of ``context`` with its own authenticator, signed up and on the account page."""
    page = await context.new_page()
    auth = await Authenticator.attach(page)
    username = f"{prefix}{secrets.token_hex(3)}"
    await sign_up(page, server, username)
    await page.wait_for_url(re.compile(r"/account"))
    return page, auth, username


async def test_passkey_journey(live_server, context):
    page = await context.new_page()
    first = await Authenticator.attach(page)
    username = f"ada{secrets.token_hex(3)}"
    await sign_up(page, live_server, username)
    await page.wait_for_url(re.compile(r"/account\?done=welcome$"))
    await expect(page.locator("#account-username")).to_have_text(username)
    await expect(page.locator(".passkey")).to_have_count(1)
    stored = await first.credentials()
    assert len(stored) == 1 and stored[0]["isResidentCredential"]

    await page.get_by_role("button", name="Sign out", exact=True).click()
    await page.wait_for_url(re.compile(r"/signin$"))
    heading = page.get_by_role("heading", level=1)
    await expect(heading).to_have_text("Welcome back, Ada Lovelace")

    # Usernameless: no typing, the authenticator offers the discoverable credential.
    await page.get_by_role("button", name="Sign in with a passkey").click()
    await page.wait_for_url(re.compile(r"/account$"))

    # A second device: a second authenticator adds its passkey.
    await first.remove()
    second = await Authenticator.attach(page)
    await page.get_by_role("button", name="Add a passkey on this device").click()
    await page.wait_for_url(re.compile(r"/account\?done=added$"))
    await expect(page.locator(".passkey")).to_have_count(2)
    assert len(await second.credentials()) == 1

    newest = page.locator(".passkey").nth(1)
    await newest.get_by_role("textbox").fill("Work laptop")
    await newest.get_by_role("button", name="Rename").click()
    await expect(page.get_by_role("status")).to_have_text("Passkey renamed.")
    await expect(page.locator(".passkey-name").nth(1)).to_have_text("Work laptop")

    oldest = page.locator(".passkey").nth(0)
    await oldest.get_by_role("button", name=re.compile("^Delete")).click()
    await expect(page.get_by_role("status")).to_have_text("Passkey deleted.")
    await expect(page.locator(".passkey-name")).to_have_text(["Work laptop"])
    await expect(page.get_by_text("This is your only passkey")).to_be_visible()

    # The remaining passkey signs in, username-first this time.
    await page.get_by_role("button", name="Sign out", exact=True).click()
    await page.get_by_label("Username", exact=True).fill(username)
    await page.get_by_role("button", name="Continue").click()
    await page.wait_for_url(re.compile(r"/account$"))
    assert (await second.credentials())[0]["signCount"] >= 1


async def test_cancelled_ceremony_shows_error_and_creates_nothing(live_server, context):
    page = await context.new_page()
    await Authenticator.attach(page, user_verified=False)  # refuses verification, like a cancel
    username = f"bob{secrets.token_hex(3)}"
    await sign_up(page, live_server, username)
    await expect(page.get_by_role("alert")).to_contain_text("closed or timed out")
    assert page.url.endswith("/signup")
    assert not await user_exists(live_server, username)


async def test_second_browser_without_the_passkey_cannot_sign_in(
    live_server, context, other_context
):
    _, _, username = await signed_up_page(context, live_server, "cy")

    stranger = await other_context.new_page()
    await Authenticator.attach(stranger)
    await stranger.goto(f"{live_server.url}/signin")
    await stranger.get_by_role("button", name="Sign in with a passkey").click()
    await expect(stranger.get_by_role("alert")).to_contain_text("closed or timed out")
    await stranger.get_by_label("Username", exact=True).fill(username)
    await stranger.get_by_role("button", name="Continue").click()
    await expect(stranger.get_by_role("alert")).to_contain_text("closed or timed out")
    await stranger.goto(f"{live_server.url}/account")
    assert "/signin?next=/account" in stranger.url


async def test_duplicate_username_is_explained_on_the_form(live_server, context, other_context):
    _, _, username = await signed_up_page(context, live_server, "dup")

    again = await other_context.new_page()
    await Authenticator.attach(again)
    await sign_up(again, live_server, username.upper())
    await expect(again.locator("#username-error")).to_have_text("This username is already taken.")
    await expect(again.locator("#email-error")).to_contain_text("already exists")
    await expect(again.get_by_role("alert")).to_have_text("Please correct the highlighted fields.")
    field = again.get_by_label("Username", exact=True)
    await expect(field).to_have_attribute("aria-invalid", "true")


async def test_account_redirects_to_signin_and_back(live_server, context):
    page, auth, _ = await signed_up_page(context, live_server, "eve")
    await page.get_by_role("button", name="Sign out", exact=True).click()
    await page.goto(f"{live_server.url}/account")
    await page.wait_for_url(re.compile(r"/signin\?next=/account$"))
    await page.get_by_role("button", name="Sign in with a passkey").click()
    await page.wait_for_url(re.compile(r"/account$"))
    assert (await auth.credentials())[0]["signCount"] >= 1


async def test_passkey_autofill_signs_in_without_a_click(live_server, autofill_context):
    page, auth, _ = await signed_up_page(autofill_context, live_server, "fay")
    await page.get_by_role("button", name="Sign out", exact=True).click()
    # The sign-in page starts a conditional-mediation request for the username field's
    # autofill; the virtual authenticator picks the passkey, and the page finishes sign-in.
    await page.wait_for_url(re.compile(r"/account$"))
    assert (await auth.credentials())[0]["signCount"] >= 1
    await expect(page.get_by_role("button", name="Sign out", exact=True)).to_be_visible()


async def test_signin_field_is_marked_for_passkey_autofill(live_server, autofill_context):
    page = await autofill_context.new_page()
    await page.goto(f"{live_server.url}/signin")
    field = page.get_by_label("Username", exact=True)
    await expect(field).to_have_attribute("autocomplete", "username webauthn")
    assert await page.evaluate("PublicKeyCredential.isConditionalMediationAvailable()") is True


# A browser without the WebAuthn JSON helpers (parse*OptionsFromJSON, toJSON): the page's own
# base64url encoder must carry the ceremony.
NO_JSON_HELPERS = """
delete PublicKeyCredential.parseCreationOptionsFromJSON;
delete PublicKeyCredential.parseRequestOptionsFromJSON;
delete PublicKeyCredential.prototype.toJSON;
"""


async def test_fallback_encoder_without_native_json_helpers(live_server, context):
    await context.add_init_script(NO_JSON_HELPERS)
    page = await context.new_page()
    auth = await Authenticator.attach(page)
    await page.goto(f"{live_server.url}/signin")
    missing = await page.evaluate(
        "[typeof PublicKeyCredential.parseCreationOptionsFromJSON,"
        " typeof PublicKeyCredential.prototype.toJSON]"
    )
    assert missing == ["undefined", "undefined"]
    username = f"gus{secrets.token_hex(3)}"
    await sign_up(page, live_server, username)
    await page.wait_for_url(re.compile(r"/account\?done=welcome$"))
    await page.get_by_role("button", name="Sign out", exact=True).click()
    await page.get_by_label("Username", exact=True).fill(username)
    await page.get_by_role("button", name="Continue").click()
    await page.wait_for_url(re.compile(r"/account$"))
    assert (await auth.credentials())[0]["signCount"] >= 1
