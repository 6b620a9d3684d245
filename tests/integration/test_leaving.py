"""A person leaves (service.lifecycle.leaving): "Download my data" and "Delete my account" on
the account page, behind a recent passkey confirmation. Both backends, mail through a real
SMTP server."""

from __future__ import annotations

import re

from sqlmodel import select

from service.codec import b64url_encode
from service.db.models import AuditEvent, Consent, Grant, LogoutDelivery, PasskeyCredential, User
from service.db.models import Session as SessionRow
from tests.conftest import asgi_client
from tests.factories import Browser, signed_up
from tests.integration.helpers import credentials_of, grants_of_client, sessions_of
from tests.integration.test_oidc_admin import sesame
from tests.integration.test_oidc_sessions import decide
from tests.mail import deliver
from tests.rp import RelyingParty
from tests.softauthn import SoftAuthenticator


async def _rows_of(app, user_id: int) -> dict[str, int]:
    async with app.state.ctx.db.session() as db:
        counts = {}
        for name, model in (
            ("users", User), ("passkeys", PasskeyCredential), ("sessions", SessionRow),
            ("grants", Grant), ("consents", Consent),
        ):  # fmt: skip
            column = model.id if model is User else model.user_id
            found = await db.exec(select(model.id).where(column == user_id))
            counts[name] = len(found.all())
        return counts


async def _user_id(app, username: str) -> int:
    (credential,) = await credentials_of(app, username)
    return credential.user_id


async def _step_up(browser: Browser, auth: SoftAuthenticator) -> None:
    begun = (await browser.post("/account/step-up/begin")).json()
    done = await browser.post(
        "/account/step-up/finish",
        {"ceremony": begun["ceremony"], "credential": auth.get(begun["publicKey"])},
    )
    assert done.status_code == 200, done.text


async def test_deleting_needs_a_recent_passkey_and_the_username_then_removes_everything(
    mail_app, smtp, clock
):
    async with asgi_client(mail_app) as c:
        browser, auth, username = await signed_up(c)
        email = f"{username}@example.com"
        user_id = await _user_id(mail_app, username)
        rp = await RelyingParty.register(
            mail_app, backchannel_logout_uri="https://app.example/backchannel"
        )
        tokens = await rp.tokens(browser)
        other, flow, allowed = await decide(mail_app, browser, "allow")
        assert (await other.exchange(await other.follow_to_app(browser, allowed, flow))).is_success
        (grant,) = await grants_of_client(mail_app, rp.client_id)
        before = await _rows_of(mail_app, user_id)
        assert before == {"users": 1, "passkeys": 1, "sessions": 1, "grants": 2, "consents": 1}

        clock.advance(mail_app.state.ctx.settings.step_up_seconds + 1)
        stale = await browser.form("/account/delete", {"confirm": username})
        assert stale.status_code == 403
        assert "confirm it is you with one of your passkeys" in stale.text
        assert 'id="step-up-data"' in (await c.get("/account")).text

        await _step_up(browser, auth)
        mistyped = await browser.form("/account/delete", {"confirm": username + "x"})
        assert mistyped.status_code == 400
        assert "type your username exactly" in mistyped.text
        assert await _rows_of(mail_app, user_id) == before

        deleted = await browser.form("/account/delete", {"confirm": f"  {username.upper()} "})
        assert deleted.status_code == 200, deleted.text
        assert "Your account is deleted" in deleted.text
        assert deleted.headers["cache-control"] == "no-store"
        assert (await c.get("/account")).status_code == 303
    assert await _rows_of(mail_app, user_id) == dict.fromkeys(before, 0)
    refused = await rp.refresh(tokens["refresh_token"])
    assert refused.json()["error"] == "invalid_grant"
    async with mail_app.state.ctx.db.session() as db:
        owed = (await db.exec(select(LogoutDelivery).where(
            LogoutDelivery.client_pk == grant.client_pk))).all()  # fmt: skip
        events = (await db.exec(select(AuditEvent).where(AuditEvent.kind == "user.deleted"))).all()
        earlier = (await db.exec(select(AuditEvent).where(AuditEvent.user_id == user_id))).all()
    assert [d.sid for d in owed] == [grant.sid], "the app with back-channel logout is told"
    assert earlier == []
    (mine,) = [e for e in events if e.actor == "user" and e.at == clock.now()]
    assert mine.user_id is None and mine.detail.startswith("account ")
    assert username.lower() not in mine.detail.lower() and "@" not in mine.detail
    await deliver(mail_app)
    assert smtp.mailbox.last(email, "Your account was deleted")


async def test_an_email_session_can_neither_delete_nor_export(mail_app, smtp):
    async with asgi_client(mail_app) as c:
        _, _, username = await signed_up(c)
    email = f"{username}@example.com"
    user_id = await _user_id(mail_app, username)
    async with asgi_client(mail_app) as c:
        browser = Browser(c)
        await browser.form("/signin/email", {"email": email})
        await deliver(mail_app)
        await browser.form(smtp.mailbox.last(email, "sign-in link").path)
        page = (await c.get("/account")).text
        assert "Download my data" in page and 'id="step-up-data"' in page
        exported = await browser.form("/account/export")
        assert exported.status_code == 403 and "text/html" in exported.headers["content-type"]
        deleted = await browser.form("/account/delete", {"confirm": username})
        assert deleted.status_code == 403
    assert (await _rows_of(mail_app, user_id))["users"] == 1


async def test_the_export_holds_the_listed_items_and_no_secret(mail_app, smtp):
    async with asgi_client(mail_app) as c:
        browser, _, username = await signed_up(c, name="Ada")
        rp, flow, allowed = await decide(mail_app, browser, "allow")
        tokens = (await rp.exchange(await rp.follow_to_app(browser, allowed, flow))).json()
        without_csrf = await c.post("/account/export")
        assert without_csrf.status_code == 403
        exported = await browser.form("/account/export")
        session_cookie = [v for k, v in c.cookies.items() if "session" in k]
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"] == "application/json"
    assert re.fullmatch(
        r'attachment; filename="sesame-data-\d{4}-\d\d-\d\d\.json"',
        exported.headers["content-disposition"],
    )
    assert exported.headers["cache-control"] == "no-store"
    data = exported.json()
    assert data["format"] == "sesame-export/1"
    assert data["profile"]["username"] == username and data["profile"]["name"] == "Ada"
    assert data["profile"]["email"] == f"{username}@example.com"
    (credential,) = await credentials_of(mail_app, username)
    (passkey,) = data["passkeys"]
    assert passkey["public_key_cose"] == b64url_encode(credential.public_key)
    assert passkey["credential_id"] == b64url_encode(credential.credential_id)
    assert [a["client_id"] for a in data["apps"]] == [rp.client_id]
    assert "openid" in data["apps"][0]["scope"]
    assert [s["this_session"] for s in data["sessions"]] == [True]
    kinds = [e["kind"] for e in data["activity"]]
    assert {"signup", "consent.given"} <= set(kinds)
    assert isinstance(data["email_history"], list)
    # No secret: neither the values Sesame keeps hashed nor anything named like them.
    text = exported.text
    (session_row,) = await sessions_of(mail_app, username)
    (grant,) = await grants_of_client(mail_app, rp.client_id)
    assert session_cookie and all(v not in text for v in session_cookie)
    for secret in (
        tokens["access_token"], tokens["refresh_token"], tokens["id_token"], rp.secret,
        session_row.token_hash.hex(), b64url_encode(session_row.token_hash), grant.gid,
        grant.refresh_hash.hex(), b64url_encode(grant.refresh_hash), session_row.sid,
    ):  # fmt: skip
        assert secret and secret not in text
    assert not re.search(r'"[a-z_]*(hash|secret|token|code)[a-z_]*"\s*:', text)
    # The export is in the person's own activity.
    async with mail_app.state.ctx.db.session() as db:
        logged = await db.exec(
            select(AuditEvent).where(
                AuditEvent.kind == "account.exported", AuditEvent.user_id == credential.user_id
            )
        )
        assert len(logged.all()) == 1


async def test_deletion_can_be_turned_off(make_app, mail_app):
    app = make_app(account_deletion=False)
    async with asgi_client(app) as c:
        browser, _, username = await signed_up(c)
        assert "Delete my account" not in (await c.get("/account")).text
        refused = await browser.form("/account/delete", {"confirm": username})
        assert refused.status_code == 403 and "turned off" in refused.text
    assert (await _rows_of(app, await _user_id(app, username)))["users"] == 1


async def test_operators_delete_leaves_the_same_pseudonymous_event(backend, app, client):
    _, _, username = await signed_up(client)
    user_id = await _user_id(app, username)
    assert sesame(backend, "users", "delete", username, "--yes").returncode == 0
    assert (await _rows_of(app, user_id))["users"] == 0
    async with app.state.ctx.db.session() as db:
        found = await db.exec(select(AuditEvent).where(
            AuditEvent.kind == "user.deleted", AuditEvent.actor == "cli"))  # fmt: skip
        details = [e.detail for e in found.all()]
    assert details and all(username.lower() not in d.lower() for d in details)
