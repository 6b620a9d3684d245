"""Sign-in by email link and code, the outbox and its SMTP sender, rate limits, step-up and
recovery, with a real SMTP server (aiosmtpd) in the test process, on both backends."""

from __future__ import annotations

import asyncio
import logging
import re
import secrets

import pytest

from tests.conftest import asgi_client
from tests.factories import Browser, new_username, signed_up
from tests.integration.helpers import sessions_of
from tests.mail import SmtpServer, deliver, self_signed
from tests.processes import free_port
from tests.softauthn import SoftAuthenticator


@pytest.fixture
def own_store(backend):
    """Each test its own Redis key prefix, so rate-limit budgets do not carry over."""
    return {"redis_prefix": f"{backend.redis_prefix}{secrets.token_hex(4)}:"}


@pytest.fixture
async def account(mail_app):
    """An account (made in its own browser) and its passkey; returns (username, email, auth)."""
    async with asgi_client(mail_app) as c:
        _, auth, username = await signed_up(c)
    await deliver(mail_app)
    return username, f"{username}@example.com", auth


@pytest.fixture
async def fresh(mail_app):
    async with asgi_client(mail_app) as c:
        yield Browser(c)


@pytest.fixture
async def other(mail_app):
    async with asgi_client(mail_app) as c:
        yield Browser(c)


async def ask_link(browser: Browser, email: str, **extra: str):
    return await browser.form("/signin/email", {"email": email, **extra})


async def mailed_link(mail_app, account, browser: Browser, smtp):
    """The account's address asks for a link in ``browser``; the mail, once delivered."""
    await ask_link(browser, account[1])
    await deliver(mail_app)
    return smtp.mailbox.last(account[1], "sign-in link")


async def test_known_and_unknown_addresses_get_the_same_answer(mail_app, account, fresh, smtp):
    _, email, _ = account
    nobody = f"nobody-{new_username()}@example.com"
    known = await ask_link(fresh, email)
    unknown = await ask_link(fresh, nobody)
    assert known.status_code == unknown.status_code == 200
    assert known.text == unknown.text
    assert "If an account exists for that address" in known.text
    await deliver(mail_app)
    assert len([m for m in smtp.mailbox.to(email) if "sign-in link" in m.subject]) == 1
    assert smtp.mailbox.to(nobody) == []


async def test_link_in_the_same_browser_signs_in_after_a_confirm_click(
    mail_app, account, fresh, smtp
):
    username = account[0]
    email = account[1]
    mail = await mailed_link(mail_app, account, fresh, smtp)
    assert mail.link.startswith("http://localhost:8000/signin/email/")
    page = await fresh.client.get(mail.path)
    assert page.status_code == 200
    assert f"Sign in as {username}?" in page.text
    # Opening the link changed nothing: not signed in yet.
    assert (await fresh.client.get("/account")).status_code == 303
    done = await fresh.form(mail.path)
    assert done.status_code == 303
    assert done.headers["location"] == "/account?done=email-signin"
    account_page = await fresh.client.get("/account")
    assert account_page.status_code == 200
    assert 'id="no-passkey-here"' in account_page.text
    sessions = await sessions_of(mail_app, username)
    assert sorted(s.amr for s in sessions) == ["email", "passkey"]
    # The owner hears about it.
    await deliver(mail_app)
    assert smtp.mailbox.last(email, "You signed in with an email link")
    # Used once.
    again = await fresh.form(mail.path)
    assert again.status_code == 410


async def test_another_browser_is_told_to_use_the_code_and_does_not_burn_the_link(
    mail_app, account, fresh, other, smtp
):
    mail = await mailed_link(mail_app, account, fresh, smtp)
    elsewhere = await other.client.get(mail.path)
    assert 'id="other-browser"' in elsewhere.text
    refused = await other.form(mail.path)
    assert refused.status_code == 409
    assert (await other.client.get("/account")).status_code == 303
    # The code typed in the first browser signs in (the link was not burnt either).
    typed = await fresh.form("/signin/email/code", {"code": mail.code.lower()})
    assert typed.status_code == 303, typed.text
    assert (await fresh.client.get("/account")).status_code == 200


async def test_link_still_works_in_its_browser_after_another_opened_it(
    mail_app, account, fresh, other, smtp
):
    mail = await mailed_link(mail_app, account, fresh, smtp)
    await other.form(mail.path)
    assert (await fresh.form(mail.path)).status_code == 303


async def test_expired_tampered_and_replaced_links_are_refused(
    mail_app, account, fresh, smtp, clock
):
    _, email, _ = account
    await ask_link(fresh, email)
    await deliver(mail_app)
    first = smtp.mailbox.last(email, "sign-in link")
    tampered = first.path[:-3] + ("AAA" if not first.path.endswith("AAA") else "BBB")
    assert (await fresh.client.get(tampered)).status_code == 410
    assert (await fresh.form(tampered)).status_code == 410
    await ask_link(fresh, email)
    await deliver(mail_app)
    second = smtp.mailbox.last(email, "sign-in link")
    assert second.link != first.link
    replaced = await fresh.form(first.path)
    assert replaced.status_code == 410
    assert "replaced by a newer one" in replaced.text
    clock.advance(601)
    assert (await fresh.form(second.path)).status_code == 410
    assert (await fresh.client.get("/account")).status_code == 303


async def test_five_wrong_codes_void_the_link(mail_app, account, fresh, smtp):
    mail = await mailed_link(mail_app, account, fresh, smtp)
    wrong = "2222-2222" if mail.code != "2222-2222" else "3333-3333"
    for attempt in range(1, 6):
        response = await fresh.form("/signin/email/code", {"code": wrong})
        expected = 429 if attempt == 5 else 400
        assert response.status_code == expected, (attempt, response.text)
    assert "Too many wrong codes" in response.text
    late = await fresh.form("/signin/email/code", {"code": mail.code})
    assert late.status_code in (410, 429)
    assert (await fresh.form(mail.path)).status_code == 410
    assert (await fresh.client.get("/account")).status_code == 303


async def test_the_right_code_submitted_twenty_times_at_once_signs_in_once(
    mail_app, account, fresh, smtp
):
    """Red-team finding: concurrent submissions of the right code were all refused (the tries
    past the budget voided the link before the right one could use it)."""
    mail = await mailed_link(mail_app, account, fresh, smtp)
    await fresh.csrf()
    answers = await asyncio.gather(
        *(fresh.form("/signin/email/code", {"code": mail.code}) for _ in range(20))
    )
    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(303) == 1, statuses
    assert set(statuses) <= {303, 410, 429}, statuses
    assert (await fresh.client.get("/account")).status_code == 200


async def test_code_needs_the_browser_that_asked(mail_app, account, fresh, other, smtp):
    mail = await mailed_link(mail_app, account, fresh, smtp)
    assert (await other.form("/signin/email/code", {"code": mail.code})).status_code == 410


async def test_rate_limit_per_canonical_address_says_when(mail_app, account, fresh):
    _, email, _ = account
    variants = [email, email.upper(), f"  {email}", email.replace("@", "@").title()]
    for i in range(5):
        assert (await ask_link(fresh, variants[i % len(variants)])).status_code == 200
    limited = await ask_link(fresh, email.upper())
    assert limited.status_code == 429
    seconds = int(limited.headers["retry-after"])
    assert 0 < seconds <= 900
    assert re.search(r"try again in \d+ seconds", limited.text)


async def test_rate_limit_per_ip(make_app, smtp, own_store):
    app = make_app(**smtp.settings(), **own_store, email_rate_per_ip=3)
    async with asgi_client(app) as c:
        browser = Browser(c)
        for i in range(3):
            assert (await ask_link(browser, f"a{i}@example.com")).status_code == 200
        assert (await ask_link(browser, "a9@example.com")).status_code == 429


async def test_links_come_from_the_issuer_not_from_headers(mail_app, account, fresh, smtp):
    _, email, _ = account
    await fresh.client.post(
        "/signin/email",
        data={"email": email, "csrf_token": await fresh.csrf()},
        headers={"X-Forwarded-Host": "evil.example", "Forwarded": "host=evil.example"},
    )
    await deliver(mail_app)
    mail = smtp.mailbox.last(email, "sign-in link")
    assert mail.link.startswith("http://localhost:8000/")
    assert "evil" not in mail.text + mail.html


async def test_email_session_cannot_remove_a_passkey_until_a_passkey_confirms(
    mail_app, account, fresh, smtp
):
    """Recovery: every passkey lost; sign in by email, add a passkey, then use the new
    passkey (not the email session) to remove the lost one."""
    username, email, _lost = account
    await ask_link(fresh, email)
    await deliver(mail_app)
    await fresh.form(smtp.mailbox.last(email, "sign-in link").path)

    replacement = SoftAuthenticator()
    added = await fresh.add_passkey(replacement)
    assert added.status_code == 200, added.text
    page = (await fresh.client.get("/account")).text
    ids = re.findall(r'data-passkey-id="(\d+)"', page)
    assert len(ids) == 2
    assert 'id="step-up"' in page

    refused = await fresh.form(f"/account/passkeys/{ids[0]}/delete")
    assert refused.status_code == 403
    assert "confirm it is you with one of your passkeys" in refused.text
    assert len(re.findall(r'data-passkey-id="(\d+)"', refused.text)) == 2

    begun = await fresh.post("/account/step-up/begin")
    data = begun.json()
    confirmed = await fresh.post(
        "/account/step-up/finish",
        {"ceremony": data["ceremony"], "credential": replacement.get(data["publicKey"])},
    )
    assert confirmed.status_code == 200, confirmed.text
    removed = await fresh.form(f"/account/passkeys/{ids[0]}/delete")
    assert removed.headers["location"] == "/account?done=deleted"
    sessions = await sessions_of(mail_app, username)
    assert "email passkey" in {s.amr for s in sessions}
    await deliver(mail_app)
    assert smtp.mailbox.last(email, "A passkey was added")
    assert smtp.mailbox.last(email, "A passkey was removed")


async def test_step_up_with_another_accounts_passkey_is_refused(mail_app, account, fresh, smtp):
    _, email, _ = account
    async with asgi_client(mail_app) as c:
        _, stranger_auth, _ = await signed_up(c)
    await ask_link(fresh, email)
    await deliver(mail_app)
    await fresh.form(smtp.mailbox.last(email, "sign-in link").path)
    begun = (await fresh.post("/account/step-up/begin")).json()
    forged = await fresh.post(
        "/account/step-up/finish",
        {"ceremony": begun["ceremony"], "credential": stranger_auth.get(begun["publicKey"])},
    )
    assert forged.status_code == 400


async def test_smtp_down_answers_at_once_and_delivers_when_back(make_app, clock):
    port = free_port()
    server = SmtpServer(port)  # not started: nothing listens on the port
    app = make_app(**server.settings())
    async with asgi_client(app) as c:
        _, _, username = await signed_up(c)
        email = f"{username}@example.com"
        answered = await ask_link(Browser(c), email)
    assert answered.status_code == 200
    assert await deliver(app) == 0
    async with app.state.ctx.db.session() as db:
        from service.db.outbox import pending

        waiting = await pending(db)
    mine = [row for row in waiting if row.recipient == email]
    assert mine and all(row.attempts >= 1 for row in mine)
    server.start()
    try:
        clock.advance(11)
        await deliver(app)
        assert server.mailbox.last(email, "sign-in link").code
    finally:
        server.stop()


async def test_a_message_whose_link_expired_is_dropped_not_sent_late(make_app, clock):
    port = free_port()
    server = SmtpServer(port)
    app = make_app(**server.settings())
    async with asgi_client(app) as c:
        _, _, username = await signed_up(c)
        await ask_link(Browser(c), f"{username}@example.com")
    await deliver(app)
    server.start()
    try:
        clock.advance(601)
        await deliver(app)
        assert not [m for m in server.mailbox.mails if "sign-in link" in m.subject]
    finally:
        server.stop()


async def test_starttls(make_app, tmp_path):
    server = SmtpServer(free_port(), tls=self_signed(tmp_path))
    server.start()
    try:
        app = make_app(**server.settings())
        async with asgi_client(app) as c:
            _, _, username = await signed_up(c)
            await ask_link(Browser(c), f"{username}@example.com")
        await deliver(app)
        assert server.mailbox.last(f"{username}@example.com", "sign-in link").code
    finally:
        server.stop()


async def test_without_smtp_the_mail_goes_to_the_log(app, client, caplog):
    caplog.set_level(logging.INFO, logger="sesame.email")
    browser, _, username = await signed_up(client)
    await browser.form("/signout")
    await ask_link(browser, f"{username}@example.com")
    await deliver(app)
    logged = caplog.text
    assert "/signin/email/" in logged
    assert re.search(r"\b[2-9A-Z]{4}-[2-9A-Z]{4}\b", logged)


async def test_queued_mail_is_sealed_in_the_database(make_app):
    server = SmtpServer(free_port())  # down, so the message stays queued
    app = make_app(**server.settings())
    async with asgi_client(app) as c:
        _, _, username = await signed_up(c)
        await ask_link(Browser(c), f"{username}@example.com")
    await deliver(app)
    async with app.state.ctx.db.session() as db:
        from service.db.outbox import pending

        rows = await pending(db)
    assert rows
    assert all(b"/signin/email/" not in row.sealed_body for row in rows)


async def test_email_sign_in_during_an_app_request_returns_to_the_app(
    mail_app, account, fresh, smtp
):
    from tests.rp import RelyingParty

    _, email, _ = account
    rp = await RelyingParty.register(mail_app)
    flow = rp.new_flow()
    started = await rp.start(fresh, flow)
    interaction = started.headers["location"].split("interaction=")[1]
    page = await fresh.client.get(started.headers["location"])
    assert f'name="next" value="/interaction/{interaction}"' in page.text
    await ask_link(fresh, email, next=f"/interaction/{interaction}")
    await deliver(mail_app)
    done = await fresh.form(smtp.mailbox.last(email, "sign-in link").path)
    assert done.headers["location"] == f"/interaction/{interaction}"
    flow = await rp.follow_to_app(fresh, await fresh.client.get(done.headers["location"]), flow)
    tokens = (await rp.exchange(flow)).json()
    assert (await rp.id_claims(tokens["id_token"]))["amr"] == ["email"]
