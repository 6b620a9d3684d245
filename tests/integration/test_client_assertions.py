"""private_key_jwt client authentication (RFC 7523, OIDC Core 9), on both backends: a client
registered with its public keys (inline, or at a jwks_uri served by a real HTTP server here)
signs a short JWT instead of sending a secret. Every rule has its refusal: a reused jti, a
wrong aud, an unregistered key, an HMAC assertion, an expired one, a secret instead."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler

import pytest

from service.oidc.assurance import jwks as client_jwks
from tests.conftest import asgi_client
from tests.holder import ASSERTION_TYPE, JwksServer, KeyHolder, hmac_assertion
from tests.rp import RelyingParty


async def keyed_client(app, holder: KeyHolder, **spec) -> RelyingParty:
    from service.oidc.assurance.profile import Assurance

    assurance = spec.pop("assurance", None) or Assurance(
        auth_method="private_key_jwt", jwks=holder.jwks
    )
    return await RelyingParty.register(app, assurance=assurance, **spec)


async def token_with(rp: RelyingParty, data: dict[str, str], **headers: str):
    async with rp.back_channel() as c:
        return await c.post("/token", data=data, headers=headers)


def issuer(app) -> str:
    return app.state.oidc.settings.issuer


async def test_a_client_signs_in_with_its_key_and_has_no_secret(app, browser):
    holder = KeyHolder("ES256")
    rp = await keyed_client(app, holder)
    assert rp.secret is None
    flow = await rp.authorize(browser)
    form = {**rp.code_grant(flow), **holder.assertion_form(rp.client_id, issuer(app))}
    answer = await token_with(rp, form)
    assert answer.status_code == 200, answer.text
    assert (await rp.id_claims(answer.json()["id_token"]))["aud"] == rp.client_id
    # The same assertion again (its jti) is refused, even for a fresh code.
    again = await rp.authorize(browser)
    replay = {**rp.code_grant(again), "client_assertion_type": ASSERTION_TYPE}
    replay["client_assertion"] = form["client_assertion"]
    refused = await token_with(rp, replay)
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
    assert "used before" in refused.json()["error_description"]


async def test_every_bad_assertion_is_invalid_client(app):
    holder = KeyHolder("RS256")
    rp = await keyed_client(app, holder, grant_types=["client_credentials"], redirect_uris=[])
    grant = {"grant_type": "client_credentials"}
    good = await token_with(rp, {**grant, **holder.assertion_form(rp.client_id, issuer(app))})
    assert good.status_code == 200, good.text
    # RFC 10070's explicit type, the generic one, and the issuer as a one-element array.
    for typ in ("client-authentication+jwt", "application/client-authentication+jwt", "JWT"):
        typed = await token_with(
            rp, {**grant, **holder.assertion_form(rp.client_id, issuer(app), typ=typ)}
        )
        assert typed.status_code == 200, (typ, typed.text)
    listed = holder.assertion_form(rp.client_id, [issuer(app)])  # type: ignore[arg-type]
    assert (await token_with(rp, {**grant, **listed})).status_code == 200
    stranger = KeyHolder("RS256")
    stranger.kid = holder.kid  # same key id, another key: the signature must not verify
    cases = {
        "wrong aud": holder.assertion_form(rp.client_id, "https://elsewhere.example"),
        # RFC 10070: the token endpoint's URL (RFC 7523's old allowance) is no audience now,
        # nor is an array that names anyone besides the issuer (audience injection).
        "token endpoint as aud": holder.assertion_form(rp.client_id, issuer(app) + "/token"),
        "issuer among others": holder.assertion_form(
            rp.client_id,
            [issuer(app), "https://elsewhere.example"],  # type: ignore[arg-type]
        ),
        "a DPoP proof's typ": holder.assertion_form(rp.client_id, issuer(app), typ="dpop+jwt"),
        "a request object's typ": holder.assertion_form(
            rp.client_id, issuer(app), typ="oauth-authz-req+jwt"
        ),
        "unregistered key": stranger.assertion_form(rp.client_id, issuer(app)),
        "expired": holder.assertion_form(rp.client_id, issuer(app), lifetime=-120),
        "too long-lived": holder.assertion_form(rp.client_id, issuer(app), lifetime=3600),
        "iss not the client": holder.assertion_form(rp.client_id, issuer(app), iss="someone"),
        "HMAC": {
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": hmac_assertion("s" * 32, rp.client_id, issuer(app)),
        },
        "wrong type": {
            **holder.assertion_form(rp.client_id, issuer(app)),
            "client_assertion_type": "urn:example:other",
        },
        "not a JWT": {"client_assertion_type": ASSERTION_TYPE, "client_assertion": "abc"},
    }
    for name, form in cases.items():
        answer = await token_with(rp, {**grant, **form})
        assert answer.status_code == 401, (name, answer.text)
        assert answer.json()["error"] == "invalid_client", name
    # A client_id beside the assertion must name the same client.
    mismatch = {**grant, **holder.assertion_form(rp.client_id, issuer(app)), "client_id": "x"}
    assert (await token_with(rp, mismatch)).status_code == 401
    # A secret is no way in for a client that registered keys.
    basic = await token_with(rp, grant, Authorization="Basic eDp5")
    assert basic.status_code == 401


async def test_a_secret_client_cannot_switch_to_assertions(app):
    holder = KeyHolder()
    rp = await RelyingParty.register(app, grant_types=["client_credentials"], redirect_uris=[])
    answer = await token_with(
        rp,
        {"grant_type": "client_credentials", **holder.assertion_form(rp.client_id, issuer(app))},
    )
    assert answer.status_code == 401 and "secret" in answer.json()["error_description"]


async def test_keys_at_a_jwks_uri_are_fetched_cached_and_refetched_on_rotation(
    app, jwks_server, monkeypatch
):
    from service.oidc.assurance.profile import Assurance

    holder = jwks_server.holder
    monkeypatch.setattr(client_jwks, "REFETCH_SECONDS", 0)
    rp = await keyed_client(
        app,
        holder,
        grant_types=["client_credentials"],
        redirect_uris=[],
        assurance=Assurance(auth_method="private_key_jwt", jwks_uri=jwks_server.url),
    )
    grant = {"grant_type": "client_credentials"}
    for _ in range(2):
        answer = await token_with(rp, {**grant, **holder.assertion_form(rp.client_id, issuer(app))})
        assert answer.status_code == 200, answer.text
    assert jwks_server.fetches == 1  # cached
    rotated = KeyHolder("ES256")
    jwks_server.jwks = rotated.jwks
    answer = await token_with(rp, {**grant, **rotated.assertion_form(rp.client_id, issuer(app))})
    assert answer.status_code == 200, answer.text
    assert jwks_server.fetches == 2  # a new key id sent Sesame to fetch the set again
    # The old key is gone from the set: refused.
    old = await token_with(rp, {**grant, **holder.assertion_form(rp.client_id, issuer(app))})
    assert old.status_code == 401


ADMIN = "admin-token-" + "k" * 32


async def test_registration_rules_for_keys_and_methods(make_app):
    app = make_app(admin_token=ADMIN)
    admin_headers = {"Authorization": f"Bearer {ADMIN}"}
    holder = KeyHolder()
    base = {"name": "Keyed", "redirect_uris": ["https://app.example/cb"]}
    cases = [
        ({"token_endpoint_auth_method": "private_key_jwt"}, "jwks"),
        (
            {
                "token_endpoint_auth_method": "private_key_jwt",
                "jwks": {"keys": [holder.key.as_dict(private=True)]},
            },
            "public keys only",
        ),
        (
            {
                "type": "public",
                "token_endpoint_auth_method": "private_key_jwt",
                "jwks": holder.jwks,
            },
            "public client",
        ),
        ({"jwks": holder.jwks, "jwks_uri": "https://app.example/jwks"}, "not both"),
        ({"jwks_uri": "http://app.example/jwks"}, "https"),
        ({"profile": "fapi2", "jwks": holder.jwks}, "ES256"),
    ]
    async with asgi_client(app) as c:
        for extra, reason in cases:
            answer = await c.post("/admin/clients", json={**base, **extra}, headers=admin_headers)
            assert answer.status_code == 400, (extra, answer.text)
            assert reason in answer.text, (reason, answer.text)
        made = await c.post(
            "/admin/clients",
            json={**base, "token_endpoint_auth_method": "private_key_jwt", "jwks": holder.jwks},
            headers=admin_headers,
        )
        assert made.status_code == 201, made.text
        view = made.json()
        assert view["client_secret"] is None
        assert view["token_endpoint_auth_method"] == "private_key_jwt"
        assert view["jwks"]["keys"][0]["kid"] == holder.kid
        meta = (await c.get("/.well-known/openid-configuration")).json()
    assert "private_key_jwt" in meta["token_endpoint_auth_methods_supported"]
    assert "HS256" not in meta["token_endpoint_auth_signing_alg_values_supported"]


async def test_the_cli_registers_a_fapi_client_and_rotates_its_keys(backend, app, tmp_path):
    from tests.integration.test_oidc_admin import sesame, sesame_json

    old, new = KeyHolder("ES256"), KeyHolder("ES256")
    (tmp_path / "old.json").write_text(json.dumps(old.jwks))
    (tmp_path / "new.json").write_text(json.dumps(new.jwks))
    refused = sesame(
        backend, "clients", "create", "--name", "Bank", "--profile", "fapi2",
        "--jwks-file", str(tmp_path / "old.json"), "--redirect-uri", "https://bank.example/cb",
    )  # fmt: skip
    assert refused.returncode == 2 and "ES256" in refused.stderr  # RS256 ID tokens by default
    made = sesame_json(
        backend, "clients", "create", "--name", "Bank", "--profile", "fapi2", "--alg", "ES256",
        "--jwks-file", str(tmp_path / "old.json"), "--redirect-uri", "https://bank.example/cb",
        "--grant", "authorization_code", "--grant", "client_credentials",
    )  # fmt: skip
    assert made["client_secret"] is None and made["profile"] == "fapi2"
    assert made["require_pushed_authorization_requests"] is True
    assert made["dpop_bound_access_tokens"] is True
    assert made["token_endpoint_auth_method"] == "private_key_jwt"
    missing = sesame(
        backend, "clients", "update", made["client_id"], "--jwks-file", str(tmp_path / "nope")
    )
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    sesame_json(
        backend, "clients", "update", made["client_id"], "--jwks-file", str(tmp_path / "new.json")
    )
    rp = RelyingParty(app, made["client_id"], None, "https://bank.example/cb")
    grant = {"grant_type": "client_credentials"}
    stale = await token_with(rp, {**grant, **old.assertion_form(rp.client_id, issuer(app))})
    assert stale.status_code == 401
    # The new key authenticates; the fapi2 client then still needs its DPoP proof.
    fresh = await token_with(rp, {**grant, **new.assertion_form(rp.client_id, issuer(app))})
    assert fresh.status_code == 400 and fresh.json()["error"] == "invalid_dpop_proof"


async def test_jwks_uri_fetches_are_limited(jwks_server):
    """No private addresses unless Sesame runs on localhost, no redirects, at most 64 KiB."""
    with pytest.raises(client_jwks.KeysUnavailable, match="private address"):
        await client_jwks.fetch(jwks_server.url, allow_private=False)
    assert jwks_server.fetches == 0  # refused before connecting
    jwks_server.jwks = {"keys": [], "padding": "x" * (client_jwks.MAX_JWKS_BYTES + 1)}
    with pytest.raises(client_jwks.KeysUnavailable, match="more than"):
        await client_jwks.fetch(jwks_server.url, allow_private=True)
    redirecting = JwksServer({})
    redirecting.server.RequestHandlerClass.do_GET = _redirect  # type: ignore[attr-defined]
    try:
        with pytest.raises(client_jwks.KeysUnavailable, match="answered 302"):
            await client_jwks.fetch(redirecting.url, allow_private=True)
    finally:
        redirecting.close()


def _redirect(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(302)
    handler.send_header("Location", "http://169.254.169.254/latest/meta-data")
    handler.send_header("Content-Length", "0")
    handler.end_headers()
