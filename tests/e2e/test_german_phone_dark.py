"""Issue 14's "done when", end to end: a German-speaking person on a phone in dark mode signs
up, signs in and recovers by email on a page with the deployer's name, logo and colour,
without meeting a word of English or a contrast problem (axe-core on every page)."""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import expect

from tests.e2e.conftest import NO_AUTOFILL, Authenticator, wait_for_mail
from tests.e2e.test_languages_in_browser import no_english
from tests.e2e.test_pages_in_browser import AXE, AXE_RUN, TOO_WIDE

pytestmark = pytest.mark.browser


@pytest.fixture
async def german_phone(chromium: Any) -> AsyncIterator[Any]:
    ctx = await chromium.new_context(
        locale="de-DE", color_scheme="dark", viewport={"width": 390, "height": 844}
    )
    ctx.set_default_timeout(15_000)
    await ctx.add_init_script(NO_AUTOFILL)
    yield ctx
    await ctx.close()


async def as_seen(page: Any, what: str) -> None:
    """German, dark, branded, nothing wider than the phone, no serious axe finding."""
    await no_english(page, what)
    await expect(page.locator(".brand span")).to_have_text("Acme ID")
    await expect(page.locator(".brand img")).to_be_visible()
    background = await page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
    assert background == "rgb(17, 20, 24)", (what, background)
    assert await page.evaluate(TOO_WIDE) == [], what
    if not await page.evaluate("typeof axe !== 'undefined'"):
        await page.evaluate(AXE.read_text())
    assert await page.evaluate(AXE_RUN) == [], what


async def test_sign_up_sign_in_and_recover_in_german_on_a_dark_phone(branded_server, german_phone):
    username = f"ph{secrets.token_hex(3)}"
    email = f"{username}@example.com"
    page = await german_phone.new_page()
    await Authenticator.attach(page)
    await page.goto(f"{branded_server.url}/signup")
    await as_seen(page, "sign-up")
    button = page.get_by_role("button", name="Konto mit einem Passkey erstellen")
    colours = await button.evaluate(
        "e => [getComputedStyle(e).backgroundColor, getComputedStyle(e).color]"
    )
    assert colours == ["rgb(255, 212, 0)", "rgb(17, 17, 17)"]  # the accent, dark text on it
    await page.get_by_label("Benutzername", exact=True).fill(username)
    await page.get_by_label("E-Mail", exact=True).fill(email)
    await button.click()
    await page.wait_for_url(re.compile(r"/account"))
    await as_seen(page, "account")

    # Signed out, the passkey "lost" (a new page without it): recovery by an emailed link.
    await page.get_by_role("button", name="Abmelden", exact=True).click()
    await page.wait_for_url(re.compile(r"/signin"))
    await as_seen(page, "sign-in")
    lost = await german_phone.new_page()
    await Authenticator.attach(lost)
    await lost.goto(f"{branded_server.url}/signin")
    await lost.get_by_text("Anmeldelink per E-Mail erhalten").click()
    await lost.get_by_label("E-Mail", exact=True).fill(email)
    await lost.get_by_role("button", name="Link per E-Mail senden").click()
    await expect(lost.get_by_role("heading", level=1)).to_have_text("Prüfen Sie Ihre E-Mails")
    await as_seen(lost, "check your email")
    mail = await wait_for_mail(branded_server, email, "Ihr Anmeldelink für Acme ID")
    await lost.goto(mail.link)
    await as_seen(lost, "email link")
    await lost.get_by_role("button", name="Anmelden").click()
    await lost.wait_for_url(re.compile(r"/account\?done=email-signin$"))
    await expect(lost.locator("#no-passkey-here")).to_be_visible()
    await as_seen(lost, "account after recovery")
