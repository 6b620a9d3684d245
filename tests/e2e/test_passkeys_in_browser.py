"""The hosted pages in real Chromium, with a virtual authenticator, on both backends."""

from __future__ import annotations

import re
import secrets

from playwright.sync_api import expect

from service.db import users
from service.db.engine import Database
from tests.conftest import run_sync
from tests.e2e.conftest import Authenticator

pytestmark = __import__("pytest").mark.browser


def user_exists(server, username: str) -> bool:
    async def lookup() -> bool:
        db = Database(server.backend.database_url)
        try:
            async with db.session() as session:
                return await users.by_username_key(session, username.lower()) is not None
        finally:
            await db.dispose()

    return bool(run_sync(lookup()))


def sign_up(page, server, username: str, name: str = "Ada Lovelace") -> None:
    page.goto(f"{server.url}/signup")
    page.get_by_label("Name (optional)").fill(name)
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("Email", exact=True).fill(f"{username}@example.com")
    page.get_by_role("button", name="Create account with a passkey").click()


def test_passkey_journey(live_server, context):
    page = context.new_page()
    first = Authenticator(page)
    username = f"ada{secrets.token_hex(3)}"
    sign_up(page, live_server, username)
    page.wait_for_url(re.compile(r"/account\?done=welcome$"))
    expect(page.locator("#account-username")).to_have_text(username)
    expect(page.locator(".passkey")).to_have_count(1)
    assert len(first.credentials()) == 1 and first.credentials()[0]["isResidentCredential"]

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/signin$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome back, Ada Lovelace")

    # Usernameless: no typing, the authenticator offers the discoverable credential.
    page.get_by_role("button", name="Sign in with a passkey").click()
    page.wait_for_url(re.compile(r"/account$"))

    # A second device: a second authenticator adds its passkey.
    first.remove()
    second = Authenticator(page)
    page.get_by_role("button", name="Add a passkey on this device").click()
    page.wait_for_url(re.compile(r"/account\?done=added$"))
    expect(page.locator(".passkey")).to_have_count(2)
    assert len(second.credentials()) == 1

    newest = page.locator(".passkey").nth(1)
    newest.get_by_role("textbox").fill("Work laptop")
    newest.get_by_role("button", name="Rename").click()
    expect(page.get_by_role("status")).to_have_text("Passkey renamed.")
    expect(page.locator(".passkey-name").nth(1)).to_have_text("Work laptop")

    page.locator(".passkey").nth(0).get_by_role("button", name=re.compile("^Delete")).click()
    expect(page.get_by_role("status")).to_have_text("Passkey deleted.")
    expect(page.locator(".passkey-name")).to_have_text(["Work laptop"])
    expect(page.get_by_text("This is your only passkey")).to_be_visible()

    # The remaining passkey signs in, username-first this time.
    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(r"/account$"))
    assert second.credentials()[0]["signCount"] >= 1


def test_cancelled_ceremony_shows_error_and_creates_nothing(live_server, context):
    page = context.new_page()
    Authenticator(page, user_verified=False)  # refuses user verification, like a cancel
    username = f"bob{secrets.token_hex(3)}"
    sign_up(page, live_server, username)
    expect(page.get_by_role("alert")).to_contain_text("closed or timed out")
    assert page.url.endswith("/signup")
    assert not user_exists(live_server, username)


def test_second_browser_without_the_passkey_cannot_sign_in(live_server, context, other_context):
    page = context.new_page()
    Authenticator(page)
    username = f"cy{secrets.token_hex(3)}"
    sign_up(page, live_server, username)
    page.wait_for_url(re.compile(r"/account"))

    stranger = other_context.new_page()
    Authenticator(stranger)
    stranger.goto(f"{live_server.url}/signin")
    stranger.get_by_role("button", name="Sign in with a passkey").click()
    expect(stranger.get_by_role("alert")).to_contain_text("closed or timed out")
    stranger.get_by_label("Username", exact=True).fill(username)
    stranger.get_by_role("button", name="Continue").click()
    expect(stranger.get_by_role("alert")).to_contain_text("closed or timed out")
    stranger.goto(f"{live_server.url}/account")
    assert "/signin?next=/account" in stranger.url


def test_duplicate_username_is_explained_on_the_form(live_server, context, other_context):
    page = context.new_page()
    Authenticator(page)
    username = f"dup{secrets.token_hex(3)}"
    sign_up(page, live_server, username)
    page.wait_for_url(re.compile(r"/account"))

    again = other_context.new_page()
    Authenticator(again)
    sign_up(again, live_server, username.upper())
    expect(again.locator("#username-error")).to_have_text("This username is already taken.")
    expect(again.locator("#email-error")).to_contain_text("already exists")
    expect(again.get_by_label("Username", exact=True)).to_have_attribute("aria-invalid", "true")


def test_account_redirects_to_signin_and_back(live_server, context, other_context):
    setup = context.new_page()
    auth = Authenticator(setup)
    sign_up(setup, live_server, f"eve{secrets.token_hex(3)}")
    setup.wait_for_url(re.compile(r"/account"))
    setup.get_by_role("button", name="Sign out").click()
    setup.goto(f"{live_server.url}/account")
    setup.wait_for_url(re.compile(r"/signin\?next=/account$"))
    setup.get_by_role("button", name="Sign in with a passkey").click()
    setup.wait_for_url(re.compile(r"/account$"))
    assert auth.credentials()[0]["signCount"] >= 1


def test_passkey_autofill_signs_in_without_a_click(live_server, autofill_context):
    page = autofill_context.new_page()
    auth = Authenticator(page)
    sign_up(page, live_server, f"fay{secrets.token_hex(3)}")
    page.wait_for_url(re.compile(r"/account"))
    page.get_by_role("button", name="Sign out").click()
    # The sign-in page starts a conditional-mediation request for the username field's
    # autofill; the virtual authenticator picks the passkey, and the page finishes sign-in.
    page.wait_for_url(re.compile(r"/account$"))
    assert auth.credentials()[0]["signCount"] >= 1
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_signin_field_is_marked_for_passkey_autofill(live_server, autofill_context):
    page = autofill_context.new_page()
    page.goto(f"{live_server.url}/signin")
    field = page.get_by_label("Username", exact=True)
    expect(field).to_have_attribute("autocomplete", "username webauthn")
    assert page.evaluate("PublicKeyCredential.isConditionalMediationAvailable()") is True
