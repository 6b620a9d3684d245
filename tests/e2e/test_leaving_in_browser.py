"""A person leaves, in real Chromium: from an email session the "Your data" card asks for a
passkey first; then the data downloads as JSON and the account is deleted by typing the
username. Mail through a real SMTP server."""

from __future__ import annotations

import json
import re

import pytest
from playwright.async_api import expect

from tests.e2e.conftest import wait_for_mail
from tests.e2e.test_email_in_browser import signed_in_by_link
from tests.e2e.test_passkeys_in_browser import signed_up_page, user_exists

pytestmark = pytest.mark.browser


async def test_download_then_delete_from_an_email_session(live_server, context, other_context):
    owner, _, username = await signed_up_page(context, live_server, "bye")
    await owner.close()
    email = f"{username}@example.com"
    page = await signed_in_by_link(other_context, live_server, username)
    await page.get_by_role("button", name="Add a passkey on this device").click()
    await page.wait_for_url(re.compile(r"/account\?done=added$"))

    # An email session: both actions wait for a passkey.
    card = page.locator("#your-data")
    await expect(card.get_by_role("button", name="Download my data")).to_be_disabled()
    await card.locator("summary", has_text="Delete my account").click()
    await expect(card.get_by_role("button", name="Delete my account")).to_be_disabled()
    await card.get_by_role("button", name="Use a passkey to continue").click()
    await page.wait_for_url(re.compile(r"/account\?done=confirmed$"))

    async with page.expect_download() as download_info:
        await card.get_by_role("button", name="Download my data").click()
    download = await download_info.value
    assert re.fullmatch(r"sesame-data-\d{4}-\d\d-\d\d\.json", download.suggested_filename)
    data = json.loads((await download.path()).read_text(encoding="utf-8"))
    assert data["profile"]["username"] == username
    assert len(data["passkeys"]) == 2
    assert [s["this_session"] for s in data["sessions"]].count(True) == 1

    await card.locator("summary", has_text="Delete my account").click()
    await card.get_by_label(re.compile("Type your username")).fill("not-" + username)
    await card.get_by_role("button", name="Delete my account").click()
    await expect(page.get_by_role("alert")).to_contain_text("type your username exactly")
    assert await user_exists(live_server, username)

    await page.locator("#your-data summary", has_text="Delete my account").click()
    await page.get_by_label(re.compile("Type your username")).fill(username)
    await page.get_by_role("button", name="Delete my account").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Your account is deleted")
    assert not await user_exists(live_server, username)
    await wait_for_mail(live_server, email, "Your account was deleted")
    await page.goto(f"{live_server.url}/account")
    await page.wait_for_url(re.compile(r"/signin"))
