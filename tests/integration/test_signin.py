"""Passkey sign-in: discoverable and username-first, and every WebAuthn rule it enforces."""

from __future__ import annotations

import secrets

import pytest

from tests.conftest import asgi_client
from tests.factories import Browser, new_username
from tests.integration.helpers import credentials_of, sessions_of
from tests.softauthn import SoftAuthenticator


async def registered(client, **auth_options):
    """A signed-up user whose browser then signed out; returns (username, authenticator)."""
    browser, auth, username = Browser(client), SoftAuthenticator(**auth_options), new_username()
    assert (await browser.signup(auth, username=username)).status_code == 200
    assert (await browser.form("/signout")).status_code == 303
    return username, auth


async def test_discoverable_signin(app, client, other_client):
    username, auth = await registered(client)
    options = await Browser(other_client).begin_signin()
    assert options["publicKey"]["allowCredentials"] == []
    assert options["publicKey"]["userVerification"] == "required"
    response = await Browser(other_client).signin(auth)
    assert response.status_code == 200, response.text
    assert response.json()["redirect"] == "/account"
    assert username in (await other_client.get("/account")).text
    creds = await credentials_of(app, username)
    assert creds[0].last_used_at is not None


async def test_username_first_signin_lists_the_users_passkeys(client, other_client):
    username, auth = await registered(client)
    browser = Browser(other_client)
    options = await browser.begin_signin(username.upper())
    allowed = [c["id"] for c in options["publicKey"]["allowCredentials"]]
    assert allowed == [auth.get(options["publicKey"])["id"]]
    assert (await browser.signin(auth, username=username)).status_code == 200


def assert_same_shape(known: list[dict], decoy: list[dict]) -> None:
    """Red-team finding: an unknown name got 22-character ids and no transports, a known one
    43-character ids with transports. Same count, same id lengths, plausible transports."""
    assert len(decoy) == len(known) == 1
    assert [len(c["id"]) for c in decoy] == [len(c["id"]) for c in known] == [43]
    for entry in decoy:
        assert entry["type"] == "public-key"
        assert entry["transports"] == ["hybrid", "internal"]


async def test_unknown_username_gets_same_shaped_options_and_same_error(client, other_client):
    username, auth = await registered(client)
    browser = Browser(other_client)
    known = (await browser.begin_signin(username))["publicKey"]["allowCredentials"]
    unknown = (await browser.begin_signin("nobody-" + new_username()))["publicKey"]
    assert_same_shape(known, unknown["allowCredentials"])
    again = await browser.begin_signin(unknown_name := "nobody-x" + new_username())
    assert (
        again["publicKey"]["allowCredentials"]
        == (await browser.begin_signin(unknown_name))["publicKey"]["allowCredentials"]
    )
    response = await browser.signin(auth, username=unknown_name)
    assert response.status_code == 400
    assert response.json()["error"] == "unknown_passkey"


async def test_passkey_of_another_user_is_refused_for_named_user(client, other_client):
    alice, _ = await registered(client)
    _, mallory_auth = await registered(client)
    response = await Browser(other_client).signin(mallory_auth, username=alice)
    assert response.status_code == 400
    assert response.json()["error"] == "unknown_passkey"


async def test_unknown_credential_gives_same_error_as_unknown_user(client):
    stranger = SoftAuthenticator()
    stranger.create({"rp": {"id": "localhost"}, "user": {"id": "AAAA"}, "challenge": "AAAA"})
    response = await Browser(client).signin(stranger)
    assert response.status_code == 400
    assert response.json()["error"] == "unknown_passkey"


async def test_user_handle_must_belong_to_the_credentials_owner(client, other_client):
    _, alice_auth = await registered(client)
    _, bob_auth = await registered(client)
    response = await Browser(other_client).signin(
        alice_auth, user_handle=bob_auth.passkeys[0].user_handle
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unknown_passkey"


async def test_discoverable_signin_needs_user_handle(client, other_client):
    _, auth = await registered(client)
    response = await Browser(other_client).signin(auth, user_handle=None)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_response"


@pytest.mark.parametrize(
    "bend",
    [
        {"uv": False},
        {"up": False},
        {"origin": "http://localhost:9999"},
        {"rp_id": "example.com"},
        {"cross_origin": True},
        {"challenge": "AAAAAAAAAAAAAAAAAAAAAA"},
        {"ctype": "webauthn.create"},
        {"be": False, "bs": True},
    ],
    ids=["no-uv", "no-up", "origin", "rp-id", "cross-origin", "challenge", "type", "bs-no-be"],
)
async def test_forged_assertion_is_refused_and_changes_nothing(app, client, other_client, bend):
    username, auth = await registered(client, count_signatures=True)
    before = (await credentials_of(app, username))[0]
    response = await Browser(other_client).signin(auth, **bend)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_response"
    after = (await credentials_of(app, username))[0]
    assert (after.sign_count, after.last_used_at) == (before.sign_count, before.last_used_at)
    assert len(await sessions_of(app, username)) == 0


async def test_tampered_signature_is_refused(client, other_client):
    _, auth = await registered(client)
    browser = Browser(other_client)
    options = await browser.begin_signin()
    credential = auth.get(options["publicKey"])
    sig = bytearray(credential["response"]["signature"].encode())
    sig[10] = ord("A") if sig[10] != ord("A") else ord("B")
    credential["response"]["signature"] = sig.decode()
    response = await browser.post(
        "/signin/finish", {"ceremony": options["ceremony"], "credential": credential}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_response"


async def test_assertion_replay_and_other_ceremony_types_are_refused(client, other_client):
    _, auth = await registered(client)
    browser = Browser(other_client)
    options = await browser.begin_signin()
    body = {"ceremony": options["ceremony"], "credential": auth.get(options["publicKey"])}
    assert (await browser.post("/signin/finish", body)).status_code == 200
    replay = await browser.post("/signin/finish", body)
    assert replay.json()["error"] == "ceremony_expired"
    # A sign-up ceremony id cannot be used to finish a sign-in.
    signup_ceremony = (await Browser(client).begin_signup()).json()
    fresh = await Browser(client).begin_signin()
    wrong_type = await Browser(client).post(
        "/signin/finish",
        {
            "ceremony": signup_ceremony["ceremony"],
            "credential": auth.get(
                fresh["publicKey"], challenge=signup_ceremony["publicKey"]["challenge"]
            ),
        },
    )
    assert wrong_type.status_code == 400
    assert wrong_type.json()["error"] == "ceremony_expired"


async def test_signin_ceremony_expires_by_the_clock(client, other_client, clock):
    _, auth = await registered(client)
    browser = Browser(other_client)
    options = await browser.begin_signin()
    clock.advance(300)
    response = await browser.post(
        "/signin/finish",
        {"ceremony": options["ceremony"], "credential": auth.get(options["publicKey"])},
    )
    assert response.json()["error"] == "ceremony_expired"


async def test_zero_counter_stays_acceptable_for_synced_passkeys(app, client, other_client):
    username, auth = await registered(client, backup_eligible=True, backed_up=True)
    for _ in range(2):
        assert (await Browser(other_client).signin(auth)).status_code == 200
    cred = (await credentials_of(app, username))[0]
    assert cred.sign_count == 0 and cred.backup_eligible and cred.backup_state


async def test_counter_must_increase_and_regression_is_recorded(app, client, other_client):
    username, auth = await registered(client, count_signatures=True)
    assert (await Browser(other_client).signin(auth)).status_code == 200
    assert (await credentials_of(app, username))[0].sign_count == 1
    cloned = await Browser(other_client).signin(auth, sign_count=1)
    assert cloned.status_code == 400
    assert cloned.json()["error"] == "invalid_response"
    cred = (await credentials_of(app, username))[0]
    assert cred.sign_count == 1
    assert cred.counter_regressed_at is not None
    assert (await Browser(other_client).signin(auth, sign_count=5)).status_code == 200
    assert (await credentials_of(app, username))[0].sign_count == 5


async def test_backup_eligibility_cannot_change_and_state_is_updated(app, client, other_client):
    username, auth = await registered(client, backup_eligible=True, backed_up=False)
    changed = await Browser(other_client).signin(auth, be=False, bs=False)
    assert changed.json()["error"] == "invalid_response"
    assert (await Browser(other_client).signin(auth, bs=True)).status_code == 200
    assert (await credentials_of(app, username))[0].backup_state is True


async def test_signin_with_next_goes_back_to_same_origin_path_only(client, other_client):
    _, auth = await registered(client)
    inside = await Browser(other_client).signin(auth, next="/account?tab=passkeys")
    assert inside.json()["redirect"] == "/account?tab=passkeys"
    outside = await Browser(client).signin(auth, next="//evil.example/steal")
    assert outside.json()["redirect"] == "/account"


async def test_disabled_user_cannot_sign_in(app, client, other_client):
    from sqlalchemy import update

    from service.db.models import User

    username, auth = await registered(client)
    async with app.state.ctx.db.session() as db:
        await db.exec(
            update(User)
            .where(User.username_key == username)
            .values(disabled_at=app.state.ctx.clock.now())
        )
        await db.commit()
    response = await Browser(other_client).signin(auth)
    assert response.status_code == 403
    assert response.json()["error"] == "account_disabled"


async def test_passkey_ceremonies_begun_are_budgeted_per_address(make_app):
    """A flood of begins (each stores a challenge) from one address is refused with 429 and
    Retry-After; another address keeps its own budget; a finish costs nothing more."""
    app = make_app(
        ceremony_rate_per_ip=3,
        redis_prefix=f"sesame-test-{secrets.token_hex(4)}:",
        trusted_proxies=["127.0.0.1"],
    )
    async with asgi_client(app) as c:
        browser = Browser(c)
        here = {"X-Forwarded-For": "203.0.113.7"}
        name = new_username()
        signup = {"username": name, "email": f"{name}@example.com"}
        statuses = [
            (await browser.post("/signin/begin", {}, headers=here)).status_code,
            (await browser.post("/signup/begin", signup, headers=here)).status_code,
            (await browser.post("/signin/begin", {}, headers=here)).status_code,
        ]
        refused = await browser.post("/signin/begin", {}, headers=here)
        elsewhere = await browser.post(
            "/signin/begin", {}, headers={"X-Forwarded-For": "198.51.100.9"}
        )
        metrics = (await c.get("/metrics")).text
    assert statuses == [200, 200, 200]
    assert refused.status_code == 429, refused.text
    assert refused.json()["error"] == "rate_limited"
    assert 1 <= int(refused.headers["retry-after"]) <= 20  # 60 s / 3: one more in 20 s
    assert elsewhere.status_code == 200
    assert 'sesame_rate_limit_hits_total{kind="ceremony-ip"}' in metrics


async def test_sign_ins_begun_for_one_named_account_are_budgeted(make_app):
    """Guessing at one person's account from many addresses is slowed down: begins naming the
    same username share a budget; another username, or a usernameless begin, does not."""
    app = make_app(ceremony_rate_per_account=2, redis_prefix=f"sesame-test-{secrets.token_hex(4)}:")
    async with asgi_client(app) as c:
        browser = Browser(c)
        name = new_username()
        named = [
            (await browser.post("/signin/begin", {"username": n})).status_code
            for n in (name, name.upper(), name)
        ]
        other = await browser.post("/signin/begin", {"username": new_username()})
        nameless = await browser.post("/signin/begin", {})
        metrics = (await c.get("/metrics")).text
    assert named == [200, 200, 429]
    assert other.status_code == 200 and nameless.status_code == 200
    assert 'sesame_rate_limit_hits_total{kind="ceremony-account"}' in metrics
