"""Discovery, JWKS, ID token algorithms and signing-key rotation."""

from __future__ import annotations

import base64
import json

import pytest
from joserfc import jws

from tests.conftest import asgi_client
from tests.factories import signed_up
from tests.rp import RelyingParty, query_of


async def test_discovery_document(client):
    response = await client.get("/.well-known/openid-configuration")
    meta = response.json()
    assert meta["issuer"] == "http://localhost:8000"
    for name in (
        "authorization",
        "token",
        "userinfo",
        "revocation",
        "introspection",
        "device_authorization",
    ):
        assert meta[f"{name}_endpoint"].startswith("http://localhost:8000/")
    assert meta["jwks_uri"] == "http://localhost:8000/jwks.json"
    assert meta["end_session_endpoint"] == "http://localhost:8000/logout"
    assert "openid" in meta["scopes_supported"]
    assert "RS256" in meta["id_token_signing_alg_values_supported"]
    assert "none" not in meta["id_token_signing_alg_values_supported"]
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["authorization_response_iss_parameter_supported"] is True
    assert meta["response_types_supported"] == ["code"]
    assert set(meta["grant_types_supported"]) == {
        "authorization_code",
        "refresh_token",
        "client_credentials",
        "urn:ietf:params:oauth:grant-type:device_code",
    }
    assert "implicit" not in meta["grant_types_supported"]
    assert "public, max-age" in response.headers["cache-control"]
    oauth = (await client.get("/.well-known/oauth-authorization-server")).json()
    assert oauth == meta


async def test_discovery_uses_configured_issuer_not_host_headers(make_app):
    from tests.conftest import asgi_client

    app = make_app(issuer="https://id.example.com")
    async with asgi_client(app, base_url="http://localhost:8000") as c:
        meta = (
            await c.get(
                "/.well-known/openid-configuration",
                headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"},
            )
        ).json()
    assert meta["issuer"] == "https://id.example.com"
    assert all("evil" not in str(v) for v in meta.values())
    endpoints = [v for k, v in meta.items() if k.endswith(("_endpoint", "_uri"))]
    # with device_authorization_endpoint (RFC 8628) and pushed_authorization_request_endpoint
    assert len(endpoints) == 9
    assert all(v.startswith("https://id.example.com/") for v in endpoints)


async def test_jwks_has_distinct_kids_and_no_private_parts(client):
    keys = (await client.get("/jwks.json")).json()["keys"]
    kids = [k["kid"] for k in keys]
    assert len(kids) == len(set(kids))
    assert {"RS256", "ES256", "EdDSA"} <= {k["alg"] for k in keys}
    for key in keys:
        assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key)


@pytest.mark.parametrize("alg", ["RS256", "ES256", "EdDSA"])
async def test_id_token_is_signed_with_the_registered_algorithm(app, client, alg):
    browser, _, _ = await signed_up(client)
    rp = await RelyingParty.register(app, id_token_alg=alg)
    body = await rp.tokens(browser)
    header = jws.extract_compact(body["id_token"].encode()).protected
    assert header["alg"] == alg
    claims = await rp.id_claims(body["id_token"], alg=alg)
    assert claims["aud"] == rp.client_id
    # Access tokens are RFC 9068 JWTs, always RS256.
    assert jws.extract_compact(body["access_token"].encode()).protected["typ"] == "at+jwt"


async def test_signing_keys_survive_a_restart(make_app, client):
    before = (await client.get("/jwks.json")).json()
    from tests.conftest import asgi_client

    async with asgi_client(make_app()) as c:
        assert (await c.get("/jwks.json")).json() == before


async def test_key_rotation_publishes_first_signs_later_and_keeps_the_old_key(app, client, clock):
    signer = app.state.oidc.signer
    browser, _, _ = await signed_up(client)
    rp = await RelyingParty.register(app)
    old = await rp.tokens(browser)
    old_kid = jws.extract_compact(old["id_token"].encode()).protected["kid"]
    new_kids = await signer.rotate(delay_seconds=120)
    published = {k["kid"] for k in (await client.get("/jwks.json")).json()["keys"]}
    assert set(new_kids) <= published and old_kid in published
    # Before the delay the old key still signs (other instances may not know the new one).
    during = await rp.tokens(browser)
    assert jws.extract_compact(during["id_token"].encode()).protected["kid"] == old_kid
    clock.advance(121)
    after = await rp.tokens(browser)
    new_kid = jws.extract_compact(after["id_token"].encode()).protected["kid"]
    assert new_kid in new_kids
    await rp.id_claims(after["id_token"])
    # The old key stays published until every token it signed has expired ...
    clock.advance(app.state.oidc.settings.max_token_seconds - 60)
    assert old_kid in {k["kid"] for k in (await client.get("/jwks.json")).json()["keys"]}
    # ... and then leaves.
    clock.advance(120)
    remaining = {k["kid"] for k in (await client.get("/jwks.json")).json()["keys"]}
    assert old_kid not in remaining
    assert new_kid in remaining


async def test_unsigned_id_token_hint_is_refused(app, client):
    browser, _, _ = await signed_up(client)
    rp = await RelyingParty.register(app)
    sub = (await rp.id_claims((await rp.tokens(browser))["id_token"]))["sub"]
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    claims = json.dumps({"iss": "http://localhost:8000", "aud": rp.client_id, "sub": sub})
    payload = base64.urlsafe_b64encode(claims.encode()).rstrip(b"=").decode()
    response = await rp.start(
        browser, rp.new_flow(), prompt="none", id_token_hint=f"{header}.{payload}."
    )
    assert query_of(response.headers["location"])["error"] == "invalid_request"


async def test_instances_agree_on_keys_and_rotation(make_app):
    """Two instances over one database: a rotation made through one is served and used by the
    other (keys live in the database, caches expire)."""
    first = make_app(signing_key_cache_seconds=0)
    second = make_app(signing_key_cache_seconds=0)
    async with asgi_client(first) as a, asgi_client(second) as b:
        assert (await a.get("/jwks.json")).json() == (await b.get("/jwks.json")).json()
        new_kids = await first.state.oidc.signer.rotate(delay_seconds=0)
        published = {k["kid"] for k in (await b.get("/jwks.json")).json()["keys"]}
        assert set(new_kids) <= published
    rp = await RelyingParty.register(second)
    async with asgi_client(second) as c:
        browser, _, _ = await signed_up(c)
        body = await rp.tokens(browser)
    assert jws.extract_compact(body["id_token"].encode()).protected["kid"] in new_kids


async def test_a_started_instance_signs_its_first_token_without_opening_a_key(
    make_app, client, monkeypatch
):
    """The keys that sign now are opened at start-up: opening an RSA private key checks it,
    tens of milliseconds each worker's first token would otherwise wait for. Once an instance
    has started (its lifespan run), signing with every algorithm opens no key."""
    import signal

    from service.keys import signing

    assert (await client.get("/jwks.json")).status_code == 200  # the keys exist
    started = make_app(signing_key_cache_seconds=60)
    original = signal.getsignal(signal.SIGTERM)  # start-up chains a handler in front
    try:
        async with started.router.lifespan_context(started):

            def no_opening(*_args, **_kwargs):
                raise AssertionError("a key was opened when a token was signed")

            monkeypatch.setattr(signing, "import_key", no_opening)
            for alg in signing.ALGORITHMS:
                token = await started.state.oidc.signer.sign({"sub": "s"}, alg=alg)
                assert jws.extract_compact(token.encode()).protected["alg"] == alg
    finally:
        signal.signal(signal.SIGTERM, original)
