"""Email sign-in and lost-passkey recovery in real Chromium, mail through a real SMTP server."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.e2e.conftest import Authenticator, wait_for_mail
from tests.e2e.test_passkeys_in_browser import signed_up_page

pytestmark = pytest.mark.browser


async def ask_for_link(page, server, email: str) -> None:
    await page.goto(f"{server.url}/signin")
    await page.get_by_text("Email me a sign-in link").click()
    await page.get_by_label("Email", exact=True).fill(email)
    await page.get_by_role("button", name="Email me a link").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")


async def signed_in_by_link(context, server, username: str):
    """A page of ``context`` with an authenticator of its own (no passkey of the account on
    it), signed in to ``username``'s account by an emailed link."""
    email = f"{username}@example.com"
    page = await context.new_page()
    await Authenticator.attach(page)
    await ask_for_link(page, server, email)
    mail = await wait_for_mail(server, email, "sign-in link")
    await page.goto(mail.link)
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Sign in as {username}?")
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(re.compile(r"/account\?done=email-signin$"))
    return page


async def test_link_in_the_same_browser_then_add_a_passkey(live_server, context, other_context):
    owner_page, _, username = await signed_up_page(context, live_server, "em")
    email = f"{username}@example.com"
    page = await signed_in_by_link(other_context, live_server, username)
    await expect(page.locator("#no-passkey-here")).to_be_visible()

    await page.get_by_role("button", name="Add a passkey on this device").click()
    await page.wait_for_url(re.compile(r"/account\?done=added$"))
    await expect(page.locator(".passkey")).to_have_count(2)
    await wait_for_mail(live_server, email, "A passkey was added")
    await owner_page.close()


async def test_recovery_code_in_the_original_tab_and_step_up(
    live_server, context, other_context, chromium
):
    """Every passkey lost: the link opened elsewhere is refused (and not burnt), the code in
    the original tab signs in, a new passkey is added, and only that passkey (not the email
    session) may remove the lost one."""
    lost_page, lost, username = await signed_up_page(context, live_server, "rc")
    email = f"{username}@example.com"
    await lost.remove()

    page = await other_context.new_page()
    await Authenticator.attach(page)
    await ask_for_link(page, live_server, email)
    mail = await wait_for_mail(live_server, email, "sign-in link")

    # The link opened on another device (the old browser) does not sign that browser in.
    await lost_page.goto(mail.link)
    await expect(lost_page.locator("#other-browser")).to_be_visible()

    await page.get_by_label("Code from the email").fill(mail.code)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(re.compile(r"/account\?done=email-signin$"))

    await page.get_by_role("button", name="Add a passkey on this device").click()
    await page.wait_for_url(re.compile(r"/account\?done=added$"))
    await expect(page.locator(".passkey")).to_have_count(2)
    # An email session offers no delete button, and the server refuses a forged one.
    await expect(page.get_by_role("button", name=re.compile("^Delete"))).to_have_count(0)
    csrf = await page.locator('meta[name="csrf-token"]').get_attribute("content")
    first_id = await page.locator(".passkey").nth(0).get_attribute("data-passkey-id")
    refused = await page.request.post(
        f"{live_server.url}/account/passkeys/{first_id}/delete",
        form={"csrf_token": csrf or ""},
        max_redirects=0,
    )
    assert refused.status == 403

    await page.get_by_role("button", name="Confirm with a passkey").click()
    await page.wait_for_url(re.compile(r"/account\?done=confirmed$"))
    oldest = page.locator(".passkey").nth(0)
    await oldest.get_by_role("button", name=re.compile("^Delete")).click()
    await expect(page.get_by_role("status")).to_have_text("Passkey deleted.")
    await expect(page.locator(".passkey")).to_have_count(1)
    await wait_for_mail(live_server, email, "A passkey was removed")

    # The replacement passkey now signs in on its own.
    await page.get_by_role("button", name="Sign out", exact=True).click()
    await page.get_by_role("button", name="Sign in with a passkey").click()
    await page.wait_for_url(re.compile(r"/account$"))


async def test_refusals_are_explained(live_server, context, other_context):
    _, _, username = await signed_up_page(context, live_server, "rf")
    email = f"{username}@example.com"
    page = await other_context.new_page()
    await ask_for_link(page, live_server, email)
    mail = await wait_for_mail(live_server, email, "sign-in link")

    # Wrong codes: refused each time, and the fifth voids the link.
    for _ in range(4):
        await page.get_by_label("Code from the email").fill("2222-2222")
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.locator("#code-error")).to_have_text(
            "That code is not right. Check the email and try again."
        )
    await page.get_by_label("Code from the email").fill("2222-2222")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#code-error")).to_have_text(
        "Too many wrong codes. Please ask for a new link."
    )
    await page.goto(mail.link)
    await expect(page.get_by_role("alert")).to_contain_text("has expired, was already used")

    # A fresh link: tampered is refused, the real one works once, then is refused.
    await ask_for_link(page, live_server, email)
    fresh = await wait_for_mail(live_server, email, "sign-in link", after=1)
    await page.goto(fresh.link[:-2] + ("xy" if not fresh.link.endswith("xy") else "zz"))
    await expect(page.get_by_role("alert")).to_contain_text("has expired, was already used")
    await page.goto(fresh.link)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(re.compile(r"/account\?done=email-signin$"))
    await page.goto(fresh.link)
    await expect(page.get_by_role("alert")).to_contain_text("has expired, was already used")
