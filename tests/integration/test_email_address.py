"""Confirming the account's email address (link or code) and changing it, with a real SMTP
server; the ``email_verified`` claim follows."""

from __future__ import annotations

import re

import pytest

from tests.conftest import asgi_client
from tests.factories import Browser, new_username, signed_up
from tests.mail import deliver
from tests.rp import RelyingParty

CONFIRM = re.compile(r"(http://localhost:8000)(/email/confirm/[A-Za-z0-9_-]+)")


@pytest.fixture
async def browser(mail_app):
    async with asgi_client(mail_app) as c:
        yield c


def confirm_path(mail) -> str:
    found = CONFIRM.search(mail.text)
    assert found, mail.text
    return found.group(2)


async def test_sign_up_sends_a_confirmation_and_the_link_verifies(mail_app, browser, smtp):
    signed, _, username = await signed_up(browser)
    email = f"{username}@example.com"
    await deliver(mail_app)
    mail = smtp.mailbox.last(email, "Confirm your email address")
    account = (await browser.get("/account")).text
    assert 'id="email-unverified"' in account

    rp = await RelyingParty.register(mail_app)
    before = await rp.userinfo((await rp.tokens(signed))["access_token"])
    assert before.json()["email_verified"] is False

    # Opening the link (a mail scanner would) confirms nothing; the button does.
    page = await browser.get(confirm_path(mail))
    assert f"Confirm {email}?" in page.text
    assert 'id="email-unverified"' in (await browser.get("/account")).text
    done = await signed.form(confirm_path(mail))
    assert 'id="email-confirmed"' in done.text
    assert 'id="email-verified"' in (await browser.get("/account")).text
    after = await rp.userinfo((await rp.tokens(signed))["access_token"])
    assert after.json()["email_verified"] is True
    assert (await signed.form(confirm_path(mail))).status_code == 410


async def test_the_code_on_the_account_page_verifies(mail_app, browser, smtp):
    signed, _, username = await signed_up(browser)
    await deliver(mail_app)
    mail = smtp.mailbox.last(f"{username}@example.com", "Confirm your email address")
    wrong = await signed.form("/account/email/code", {"code": "2222-2222"})
    assert wrong.status_code == 400
    assert "That code is not right" in wrong.text
    right = await signed.form("/account/email/code", {"code": mail.code})
    assert right.headers["location"] == "/account?done=email-confirmed"
    assert 'id="email-verified"' in (await browser.get("/account")).text


async def test_signing_in_by_email_link_verifies_the_address(mail_app, browser, smtp):
    signed, _, username = await signed_up(browser)
    email = f"{username}@example.com"
    await signed.form("/signout")
    await signed.form("/signin/email", {"email": email})
    await deliver(mail_app)
    await signed.form(smtp.mailbox.last(email, "sign-in link").path)
    assert 'id="email-verified"' in (await browser.get("/account")).text


async def test_changing_the_address_confirms_the_new_one_and_tells_the_old_one(
    mail_app, browser, smtp
):
    signed, _, username = await signed_up(browser)
    old = f"{username}@example.com"
    new = f"{username}-new@example.org"
    asked = await signed.form("/account/email", {"email": new})
    assert asked.headers["location"] == "/account?done=email-change-sent"
    await deliver(mail_app)
    assert smtp.mailbox.last(old, "A change of your email address was requested")
    mail = smtp.mailbox.last(new, "Confirm your new email address")
    assert 'id="account-email"' in (account := (await browser.get("/account")).text)
    assert old in account  # nothing changed yet
    await signed.form(confirm_path(mail))
    account = (await browser.get("/account")).text
    assert new in account and 'id="email-verified"' in account
    await deliver(mail_app)
    assert smtp.mailbox.last(old, "Your email address was changed")
    # The new address now signs in by email; the old one gets nothing.
    async with asgi_client(mail_app) as c:
        fresh = Browser(c)
        await fresh.form("/signin/email", {"email": new})
        await fresh.form("/signin/email", {"email": old})
        await deliver(mail_app)
        assert smtp.mailbox.last(new, "sign-in link")
        assert not [m for m in smtp.mailbox.to(old) if "sign-in link" in m.subject]


async def test_changing_the_address_needs_a_recent_passkey(mail_app, browser, smtp, clock):
    signed, _, username = await signed_up(browser)
    clock.advance(mail_app.state.ctx.settings.step_up_seconds + 1)
    refused = await signed.form("/account/email", {"email": f"{username}-x@example.org"})
    assert refused.status_code == 403
    assert "confirm it is you with one of your passkeys" in refused.text
    await deliver(mail_app)
    assert smtp.mailbox.to(f"{username}-x@example.org") == []


async def test_changing_to_an_address_in_use_is_refused(mail_app, browser, smtp):
    signed, _, _ = await signed_up(browser)
    async with asgi_client(mail_app) as c:
        _, _, other = await signed_up(c)
    taken = await signed.form("/account/email", {"email": f"{other.upper()}@example.com"})
    assert taken.status_code == 409
    assert "already uses this email address" in taken.text
    invalid = await signed.form("/account/email", {"email": f"not-an-address-{new_username()}"})
    assert invalid.status_code == 400
