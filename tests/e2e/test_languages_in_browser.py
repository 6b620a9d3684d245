"""Languages in real Chromium: a German browser signs up, gets its confirmation and sign-in
emails in German through the real SMTP server, signs in by email link and meets an error page,
all without a word of English; an app's ui_locales and the language picker choose too."""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import pytest
from babel.messages.pofile import read_po
from playwright.async_api import expect

from service.i18n import LOCALE_DIR
from tests.e2e.conftest import NO_AUTOFILL, Authenticator, register_client, wait_for_mail

pytestmark = pytest.mark.browser


def _english_left_over(locale: str) -> list[str]:
    """English messages whose translation differs: none may show on a page in ``locale``.
    Placeholders split a message into the parts that must not appear."""
    with open(LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po", "rb") as handle:
        catalog = read_po(handle, locale=locale)
    parts = set()
    for message in catalog:
        if message.id and message.string and message.string != message.id:
            for part in re.split(r"%\(\w+\)s", str(message.id)):
                # Short fragments ("or", "Code") may be words of the language itself.
                if len(part.strip(" .,:;?!()")) >= 12:
                    parts.add(part.strip())
    return sorted(parts)


NEVER = {locale: _english_left_over(locale) for locale in ("de", "fr", "es", "pt_BR")}


async def no_english(page: Any, what: str, locale: str = "de") -> None:
    await expect(page.locator("html")).to_have_attribute("lang", locale.replace("_", "-"))
    shown = await page.evaluate("document.body.innerText")
    found = [part for part in NEVER[locale] if part in shown]
    assert found == [], f"{what}: English on a {locale} page: {found}"


@pytest.mark.parametrize("locale", ["fr", "es", "pt_BR"])
async def test_each_language_has_its_pages(live_server, chromium, locale):
    """The other languages, as a browser set to each sees the public pages."""
    ctx = await chromium.new_context(locale=locale.replace("_", "-"))
    await ctx.add_init_script(NO_AUTOFILL)
    try:
        page = await ctx.new_page()
        for path in ("/signin", "/signup", "/device", "/signin/email/not-a-link", "/nowhere"):
            await page.goto(f"{live_server.url}{path}")
            await no_english(page, path, locale)
    finally:
        await ctx.close()


@pytest.fixture
async def german(chromium: Any) -> AsyncIterator[Any]:
    """A browser set to German (its Accept-Language and navigator.language)."""
    ctx = await chromium.new_context(locale="de-DE")
    ctx.set_default_timeout(15_000)
    await ctx.add_init_script(NO_AUTOFILL)
    yield ctx
    await ctx.close()


async def test_a_german_browser_meets_no_english(live_server, german):
    username = f"de{secrets.token_hex(3)}"
    email = f"{username}@example.com"
    page = await german.new_page()
    await Authenticator.attach(page)
    await page.goto(f"{live_server.url}/signup")
    await no_english(page, "sign-up")
    await page.get_by_label("Benutzername", exact=True).fill("x")
    await page.get_by_label("E-Mail", exact=True).fill("not-an-address")
    await page.get_by_role("button", name="Konto mit einem Passkey erstellen").click()
    await expect(page.locator("#username-error")).to_contain_text("Benutzernamen haben 3 bis 32")
    await expect(page.locator("#email-error")).to_contain_text("gültige E-Mail-Adresse")
    await no_english(page, "sign-up refused")
    await page.get_by_label("Name (optional)").fill("Ada")
    await page.get_by_label("Benutzername", exact=True).fill(username)
    await page.get_by_label("E-Mail", exact=True).fill(email)
    await page.get_by_role("button", name="Konto mit einem Passkey erstellen").click()
    await page.wait_for_url(re.compile(r"/account"))
    await expect(page.locator("#email-unverified")).to_have_text("Noch nicht bestätigt")
    await no_english(page, "account")

    confirm = await wait_for_mail(live_server, email, "Bestätigen Sie Ihre E-Mail-Adresse")
    assert (
        confirm.text.startswith("Hallo Ada,") and "Meine E-Mail-Adresse bestätigen" in confirm.text
    )
    assert 'lang="de"' in confirm.html

    await page.get_by_role("button", name="Abmelden", exact=True).click()
    await page.wait_for_url(re.compile(r"/signin"))
    await no_english(page, "sign-in")
    await page.get_by_text("Anmeldelink per E-Mail erhalten").click()
    await page.get_by_label("E-Mail", exact=True).fill(email)
    await page.get_by_role("button", name="Link per E-Mail senden").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Prüfen Sie Ihre E-Mails")
    await no_english(page, "check your email")
    link = await wait_for_mail(live_server, email, "Ihr Anmeldelink")
    assert "Jemand (hoffentlich Sie) möchte sich" in link.text
    await page.goto(link.link)
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Als {username} anmelden?")
    await no_english(page, "email link confirmation")
    await page.get_by_role("button", name="Anmelden").click()
    await page.wait_for_url(re.compile(r"/account\?done=email-signin$"))
    await no_english(page, "account after an email sign-in")
    notice = await wait_for_mail(live_server, email, "Sie haben sich mit einem E-Mail-Link")

    await page.goto(link.link)  # used once already
    await expect(page.get_by_role("heading", level=1)).to_have_text("Etwas ist schiefgegangen")
    await no_english(page, "error page")
    assert "Hallo Ada," in notice.text


async def test_an_apps_ui_locales_then_the_picker(live_server, context):
    """The app asks for French (ui_locales); the person then picks Spanish, which stays."""
    app = register_client(
        live_server, "--name", "Boutique", "--redirect-uri", "http://localhost:9/cb"
    )
    query = {
        "client_id": app["client_id"],
        "response_type": "code",
        "scope": "openid",
        "redirect_uri": "http://localhost:9/cb",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
        "ui_locales": "tlh fr-CA en",
    }
    page = await context.new_page()
    await page.goto(f"{live_server.url}/authorize?{urlencode(query)}")
    await expect(page.locator("html")).to_have_attribute("lang", "fr")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Se connecter")
    await expect(page.locator(".app-context")).to_have_text("pour continuer vers Boutique")
    # The forms of this sign-in follow (the sign-up page has no ui_locales of its own).
    await page.get_by_role("link", name="Créer un compte").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Créer un compte")
    await page.get_by_label("Langue").select_option("es")
    await page.get_by_role("button", name="Changer de langue").click()
    await expect(page.locator("html")).to_have_attribute("lang", "es")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Crear una cuenta")
    await page.goto(f"{live_server.url}/device")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Conectar un dispositivo")
