"""The account page, passkey management, sessions, CSRF and the page security headers."""

from __future__ import annotations

import re

from tests.factories import Browser, signed_up
from tests.integration.helpers import credentials_of, sessions_of
from tests.softauthn import SoftAuthenticator


async def test_account_requires_sign_in_and_comes_back(client):
    response = await client.get("/account")
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=/account"


async def test_account_page_shows_identity_and_passkeys(app, client):
    _, _, username = await signed_up(client)
    page = (await client.get("/account")).text
    user_id = re.search(r'id="account-id"><code>([0-9a-f-]{36})<', page)
    assert user_id
    assert f"{username}@example.com" in page
    assert "This device only" in page
    assert "This is your only passkey" in page


async def test_add_rename_delete_passkeys(app, client):
    browser, first_auth, username = await signed_up(client)
    begun = await browser.post("/account/passkeys/begin")
    excluded = [c["id"] for c in begun.json()["publicKey"]["excludeCredentials"]]
    assert excluded == [first_auth.get({"challenge": "AA"})["id"]]
    added = await browser.add_passkey(SoftAuthenticator(backup_eligible=True))
    assert added.status_code == 200, added.text
    creds = await credentials_of(app, username)
    assert len(creds) == 2
    renamed = await browser.form(f"/account/passkeys/{creds[1].id}/rename", {"name": "  Phone  "})
    assert renamed.status_code == 303
    assert (await credentials_of(app, username))[1].name == "Phone"
    deleted = await browser.form(f"/account/passkeys/{creds[0].id}/delete")
    assert deleted.status_code == 303
    left = await credentials_of(app, username)
    assert [c.name for c in left] == ["Phone"]


async def test_last_passkey_cannot_be_deleted(app, client):
    browser, _, username = await signed_up(client)
    cred = (await credentials_of(app, username))[0]
    response = await browser.form(f"/account/passkeys/{cred.id}/delete")
    assert response.status_code == 409
    assert "only passkey" in response.text
    assert len(await credentials_of(app, username)) == 1


async def test_cannot_touch_another_users_passkey(app, client, other_client):
    _, _, victim = await signed_up(client)
    victim_cred = (await credentials_of(app, victim))[0]
    attacker, _, _ = await signed_up(other_client)
    assert (await attacker.add_passkey(SoftAuthenticator())).status_code == 200
    deleted = await attacker.form(f"/account/passkeys/{victim_cred.id}/delete")
    renamed = await attacker.form(f"/account/passkeys/{victim_cred.id}/rename", {"name": "x"})
    assert deleted.status_code == 404 and renamed.status_code == 404
    assert (await credentials_of(app, victim))[0].name == victim_cred.name


async def test_empty_rename_is_refused(app, client):
    browser, _, username = await signed_up(client)
    cred = (await credentials_of(app, username))[0]
    response = await browser.form(f"/account/passkeys/{cred.id}/rename", {"name": "   "})
    assert response.status_code == 400
    assert (await credentials_of(app, username))[0].name == cred.name


async def test_add_passkey_ceremony_cannot_be_finished_by_other_account(app, client, other_client):
    alice, _, _ = await signed_up(client)
    begun = (await alice.post("/account/passkeys/begin")).json()
    credential = SoftAuthenticator().create(begun["publicKey"])
    bob, _, bob_name = await signed_up(other_client)
    response = await bob.post(
        "/account/passkeys/finish", {"ceremony": begun["ceremony"], "credential": credential}
    )
    assert response.json()["error"] == "ceremony_expired"
    assert len(await credentials_of(app, bob_name)) == 1


async def test_signout_ends_the_server_side_session(app, client):
    browser, _, username = await signed_up(client)
    cookie = client.cookies.get("sesame_session")
    assert len(await sessions_of(app, username)) == 1
    response = await browser.form("/signout")
    assert response.status_code == 303 and response.headers["location"] == "/signin"
    assert await sessions_of(app, username) == []
    client.cookies.set("sesame_session", cookie)
    assert (await client.get("/account")).status_code == 303


async def test_session_id_is_rotated_at_signin_and_stored_hashed(app, client):
    browser, auth, username = await signed_up(client)
    before = client.cookies.get("sesame_session")
    assert (await browser.signin(auth)).status_code == 200
    after = client.cookies.get("sesame_session")
    assert before != after
    rows = await sessions_of(app, username)
    assert len(rows) == 1
    assert after.encode() not in rows[0].token_hash and len(rows[0].token_hash) == 32
    client.cookies.set("sesame_session", before)
    assert (await client.get("/account")).status_code == 303


async def test_session_idle_and_absolute_expiry(app, client, clock):
    browser, auth, _ = await signed_up(client)
    clock.advance(6 * 86400)
    assert (await client.get("/account")).status_code == 200  # touched: idle clock restarts
    clock.advance(6 * 86400)
    assert (await client.get("/account")).status_code == 200
    clock.advance(8 * 86400)
    assert (await client.get("/account")).status_code == 303  # idle for more than 7 days
    assert (await browser.signin(auth)).status_code == 200
    for _ in range(5):
        clock.advance(6 * 86400)
        await client.get("/account")
    assert (await client.get("/account")).status_code == 303  # past 30 days absolute


async def test_state_changing_requests_need_csrf(app, client, other_client):
    browser, _, username = await signed_up(client)
    no_token = await client.post("/signout")
    assert no_token.status_code == 403
    assert len(await sessions_of(app, username)) == 1
    other_token = await Browser(other_client).csrf()
    forged = await client.post("/signout", data={"csrf_token": other_token})
    assert forged.status_code == 403
    cross_site = await browser.post("/signin/begin", headers={"Origin": "https://evil.example"})
    assert cross_site.status_code == 403
    assert cross_site.json()["error"] == "csrf_failed"
    assert len(await sessions_of(app, username)) == 1


async def test_malformed_json_and_wrong_shapes_are_clear_400s(client):
    browser = Browser(client)
    token = await browser.csrf()
    headers = {
        "X-CSRF-Token": token,
        "Content-Type": "application/json",
        "Accept": "application/json",
    }
    broken = await client.post("/signin/finish", content=b"{not json", headers=headers)
    assert broken.status_code == 400 and broken.json()["error"] == "invalid_request"
    wrong = await browser.post("/signin/finish", {"ceremony": 5, "credential": "x"})
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_request"
    garbage = await browser.post(
        "/signin/finish", {"ceremony": "abc", "credential": {"rawId": "!!"}}
    )
    assert garbage.status_code == 400


async def test_garbage_credential_with_live_ceremony_is_invalid_response(client):
    browser = Browser(client)
    options = await browser.begin_signin()
    for credential in ({"rawId": "AAAA"}, {"rawId": "AAAA", "response": {}}, {"rawId": ""}):
        response = await browser.post(
            "/signin/finish", {"ceremony": options["ceremony"], "credential": credential}
        )
        assert response.status_code == 400
        options = await browser.begin_signin()


async def test_security_headers_and_cookie_attributes(client):
    response = await client.get("/signin")
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "<script>" not in response.text  # no inline script


async def test_returning_user_is_greeted_and_can_be_forgotten(client):
    browser, _, username = await signed_up(client)
    await browser.form("/signout")
    page = await client.get("/signin")
    assert "Welcome back, Grace" in page.text
    assert f'value="{username}"' in page.text
    await browser.form("/signin/forget")
    assert "Welcome back" not in (await client.get("/signin")).text


async def test_forged_last_user_cookie_is_ignored(client):
    client.cookies.set("sesame_last_user", "00000000-0000-0000-0000-000000000000.bad")
    page = await client.get("/signin")
    assert page.status_code == 200 and "Welcome back" not in page.text


async def test_unknown_page_is_readable_404(client):
    response = await client.get("/nope")
    assert response.status_code == 404
    assert "This page does not exist." in response.text


async def test_healthz_answers_without_touching_storage(client):
    response = await client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_concurrent_deletes_never_remove_the_last_passkey(app, client):
    import asyncio

    browser, _, username = await signed_up(client)
    for _ in range(3):
        assert (await browser.add_passkey(SoftAuthenticator())).status_code == 200
    creds = await credentials_of(app, username)
    assert len(creds) == 4
    responses = await asyncio.gather(
        *(browser.form(f"/account/passkeys/{cred.id}/delete") for cred in creds)
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [303, 303, 303, 409]
    assert len(await credentials_of(app, username)) == 1


async def test_oversized_and_unsized_bodies_are_refused_before_reading(client):
    browser = Browser(client)
    token = await browser.csrf()
    headers = {"X-CSRF-Token": token, "Content-Type": "application/json"}
    big = await client.post("/signin/begin", content=b"{" + b" " * 70_000 + b"}", headers=headers)
    assert big.status_code == 413 and big.json()["error"] == "invalid_request"

    async def chunks():
        yield b"{}"

    chunked = await client.post("/signin/begin", content=chunks(), headers=headers)
    assert chunked.status_code == 411
    assert (await browser.post("/signin/begin")).status_code == 200


async def test_head_answers_like_get_without_a_body(client):
    for path, status in (("/signin", 200), ("/", 303), ("/jwks.json", 200), ("/nope", 404),
                         ("/.well-known/openid-configuration", 200)):  # fmt: skip
        got, head = await client.get(path), await client.head(path)
        assert head.status_code == got.status_code == status, path
        assert head.content == b"" and (got.content or status == 303), path
        assert head.headers.get("content-type") == got.headers.get("content-type"), path
        assert head.headers.get("location") == got.headers.get("location"), path
    assert (await client.head("/token")).status_code == 405
