"""Sign-up on the hosted pages' JSON endpoints: the account exists only after its passkey."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from tests.factories import Browser, new_username
from tests.integration.helpers import count_users, credentials_of
from tests.softauthn import SoftAuthenticator, cose_key_of


async def test_signup_creates_account_with_first_passkey_and_signs_in(app, client):
    browser, auth, username = Browser(client), SoftAuthenticator(), new_username()
    response = await browser.signup(auth, username=username, name="Ada Lovelace")
    assert response.status_code == 200, response.text
    creds = await credentials_of(app, username)
    assert len(creds) == 1
    assert creds[0].credential_id == auth.passkeys[0].credential_id
    assert creds[0].name == "Passkey (Browser)"  # unknown AAGUID, no user agent browser
    page = await client.get("/account")
    assert page.status_code == 200
    assert username in page.text and "Ada Lovelace" in page.text


async def test_abandoned_signup_leaves_nothing_and_can_start_again(app, client):
    browser, username = Browser(client), new_username()
    begun = await browser.begin_signup(username)
    assert begun.status_code == 200
    assert await count_users(app, username) == 0
    again = await browser.signup(SoftAuthenticator(), username=username)
    assert again.status_code == 200, again.text
    assert await count_users(app, username) == 1


async def test_creation_options_require_resident_key_uv_and_offer_our_algorithms(client):
    begun = await Browser(client).begin_signup()
    options = begun.json()["publicKey"]
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert [p["alg"] for p in options["pubKeyCredParams"]] == [-7, -8, -257]
    assert options["attestation"] == "none"
    assert len(options["challenge"]) >= 22  # >= 16 bytes, base64url


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("username", "ab"),
        ("username", "has space"),
        ("username", "-dash"),
        ("email", "not-an-email"),
        ("email", "a@b"),
    ],
)
async def test_invalid_fields_are_named(client, field, value):
    body = {"username": new_username(), "email": "ok@example.com", "name": ""}
    body[field] = value
    response = await Browser(client).post("/signup/begin", body)
    assert response.status_code == 400
    assert field in response.json()["fields"]


async def test_duplicate_username_case_insensitive_and_email_normalized(app, client):
    browser, username = Browser(client), new_username()
    assert (
        await browser.signup(
            SoftAuthenticator(), username=username, email=f"{username}@Example.COM"
        )
    ).status_code == 200
    other = Browser(client)
    response = await other.begin_signup(username.upper(), f"  {username.upper()}@example.com ")
    assert response.status_code == 409
    fields = response.json()["fields"]
    assert fields["username"] == "This username is already taken."
    assert "already exists" in fields["email"]
    assert await count_users(app, username) == 1


async def test_username_taken_between_begin_and_finish_is_refused_cleanly(
    app, client, other_client
):
    username = new_username()
    first, second = Browser(client), Browser(other_client)
    begun = await first.begin_signup(username)
    assert (await second.signup(SoftAuthenticator(), username=username)).status_code == 200
    credential = SoftAuthenticator().create(begun.json()["publicKey"])
    response = await first.post(
        "/signup/finish", {"ceremony": begun.json()["ceremony"], "credential": credential}
    )
    assert response.status_code == 409
    assert "username" in response.json()["fields"]
    assert await count_users(app, username) == 1
    assert len(await credentials_of(app, username)) == 1


async def test_signup_refuses_unsupported_algorithm(app, client):
    username = new_username()
    response = await Browser(client).signup(
        SoftAuthenticator(), username=username, curve=ec.SECP384R1()
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_response"
    assert await count_users(app, username) == 0


@pytest.mark.parametrize(
    "key",
    [
        # "ES256" on P-384
        pytest.param({"curve": ec.SECP384R1(), "cose_alg": -7}, id="p384-as-es256"),
        # "RS256" on an EC key
        pytest.param({"cose_alg": -257}, id="ec-as-rs256"),
        # "EdDSA" on an EC key
        pytest.param({"cose_alg": -8}, id="ec-as-eddsa"),
        # RS256 below 2048 bits
        pytest.param({"cose_key": cose_key_of("rsa1024")}, id="rsa1024"),
        # EdDSA on Ed448
        pytest.param({"cose_key": cose_key_of("ed448")}, id="ed448"),
        # "ES256" on an OKP key
        pytest.param({"cose_key": cose_key_of("ed25519"), "cose_alg": -7}, id="okp-as-es256"),
        # off the curve
        pytest.param(
            {"cose_key": {1: 2, 3: -7, -1: 1, -2: b"\x01" * 32, -3: b"\x02" * 32}}, id="off-curve"
        ),
    ],
)
async def test_public_key_must_match_its_algorithm(app, client, key):
    """RFC 9053 / RFC 8812: ES256 is P-256, EdDSA is Ed25519, RS256 is RSA >= 2048 bits."""
    await assert_registration_refused(app, client, **key)


@pytest.mark.parametrize("kind", ["rsa2048", "ed25519"])
async def test_rsa_and_ed25519_public_keys_are_accepted(app, client, kind):
    username = new_username()
    response = await Browser(client).signup(
        SoftAuthenticator(), username=username, cose_key=cose_key_of(kind)
    )
    assert response.status_code == 200, response.text
    assert await count_users(app, username) == 1


@pytest.mark.parametrize(
    "bend",
    [
        pytest.param({"uv": False}, id="no-uv"),  # user verification required
        pytest.param({"up": False}, id="no-up"),  # user presence required
        pytest.param({"origin": "http://evil.localhost:8000"}, id="origin"),  # origin allowlist
        pytest.param({"rp_id": "evil.example"}, id="rp-id"),  # rpIdHash
        pytest.param({"cross_origin": True}, id="cross-origin"),  # iframe
        pytest.param({"cross_origin": "true"}, id="cross-origin-string"),  # not a boolean
        pytest.param({"cross_origin": 1}, id="cross-origin-number"),  # not a boolean
        pytest.param({"challenge": "AAAAAAAAAAAAAAAAAAAAAA"}, id="challenge"),  # wrong challenge
        pytest.param({"ctype": "webauthn.get"}, id="type"),  # wrong ceremony in clientData
        pytest.param({"be": False, "bs": True}, id="bs-no-be"),  # BS=1 with BE=0
        # credential id over 1023 bytes
        pytest.param({"credential_id": b"x" * 1024}, id="long-id"),
    ],
)
async def test_forged_registration_is_refused_and_creates_nothing(app, client, bend):
    await assert_registration_refused(app, client, **bend)


async def assert_registration_refused(app, client, **create) -> None:
    username = new_username()
    response = await Browser(client).signup(SoftAuthenticator(), username=username, **create)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_response"
    assert await count_users(app, username) == 0


async def test_signup_ceremony_is_single_use(app, client):
    browser, auth, username = Browser(client), SoftAuthenticator(), new_username()
    begun = (await browser.begin_signup(username)).json()
    credential = auth.create(begun["publicKey"])
    body = {"ceremony": begun["ceremony"], "credential": credential}
    assert (await browser.post("/signup/finish", body)).status_code == 200
    replay = await browser.post("/signup/finish", body)
    assert replay.status_code == 400
    assert replay.json()["error"] == "ceremony_expired"
    assert await count_users(app, username) == 1


async def test_signup_ceremony_is_bound_to_the_browser(app, client, other_client):
    username = new_username()
    begun = (await Browser(client).begin_signup(username)).json()
    credential = SoftAuthenticator().create(begun["publicKey"])
    stolen = await Browser(other_client).post(
        "/signup/finish", {"ceremony": begun["ceremony"], "credential": credential}
    )
    assert stolen.status_code == 400
    assert stolen.json()["error"] == "ceremony_expired"
    assert await count_users(app, username) == 0


async def test_signup_ceremony_expires(app, client, clock):
    browser, username = Browser(client), new_username()
    begun = (await browser.begin_signup(username)).json()
    clock.advance(301)
    credential = SoftAuthenticator().create(begun["publicKey"])
    late = await browser.post(
        "/signup/finish", {"ceremony": begun["ceremony"], "credential": credential}
    )
    assert late.status_code == 400
    assert late.json()["error"] == "ceremony_expired"
    assert await count_users(app, username) == 0


async def test_same_credential_id_cannot_be_registered_twice(app, client, other_client):
    auth = SoftAuthenticator()
    first = await Browser(client).signup(auth)
    assert first.status_code == 200
    username = new_username()
    again = await Browser(other_client).signup(
        SoftAuthenticator(), username=username, credential_id=auth.passkeys[0].credential_id
    )
    assert again.status_code == 409
    assert again.json()["error"] == "passkey_exists"
    assert await count_users(app, username) == 0
