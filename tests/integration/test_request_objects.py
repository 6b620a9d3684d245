"""Signed request objects (RFC 9101), on both backends: by value at /authorize and pushed to
/par; only the object's parameters count; unsigned, HMAC-signed, foreign-keyed, wrongly
addressed, expired or nested objects are refused with invalid_request_object, shown to the
person (the redirect URI inside is not trusted yet)."""

from __future__ import annotations

import time
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.jwk import OctKey

from service.oidc.assurance.profile import Assurance
from tests.holder import KeyHolder
from tests.rp import RelyingParty


def request_object(
    app, rp: RelyingParty, holder: KeyHolder, flow, header_typ: str | None = None, **overrides
) -> str:
    now = int(time.time())
    claims = {
        **rp.authorize_params(flow),
        "iss": rp.client_id,
        "aud": app.state.oidc.settings.issuer,
        "exp": now + 60,
        "nbf": now,
        "max_age": 600,
        **overrides,
    }
    header = {"alg": holder.alg, "kid": holder.kid, **({"typ": header_typ} if header_typ else {})}
    return jwt.encode(header, claims, holder.key)


async def test_a_signed_request_by_value_is_the_request(app, browser):
    holder = KeyHolder("ES256")
    rp = await RelyingParty.register(app, assurance=Assurance(jwks=holder.jwks))
    flow = rp.new_flow()
    signed = request_object(app, rp, holder, flow, header_typ="oauth-authz-req+jwt")  # RFC 9101 4
    # The query's own state is ignored: only the object's parameters count (RFC 9101 6.3).
    query = urlencode({"client_id": rp.client_id, "request": signed, "state": "from-query"})
    start = await browser.client.get(f"/authorize?{query}")
    done = await rp.follow_to_app(browser, start, flow)
    assert done.params["state"] == flow.state
    tokens = await rp.exchange(done)
    assert tokens.status_code == 200, tokens.text
    assert (await rp.id_claims(tokens.json()["id_token"]))["nonce"] == flow.nonce


async def test_a_signed_request_can_be_pushed(app, browser):
    holder = KeyHolder("ES256")
    rp = await RelyingParty.register(app, assurance=Assurance(jwks=holder.jwks), require_par=True)
    flow = rp.new_flow()
    import base64

    raw = f"{rp.client_id}:{rp.secret}".encode()
    async with rp.back_channel() as c:
        pushed = await c.post(
            "/par",
            data={"request": request_object(app, rp, holder, flow)},
            headers={"Authorization": "Basic " + base64.b64encode(raw).decode()},
        )
    assert pushed.status_code == 201, pushed.text
    query = urlencode({"client_id": rp.client_id, "request_uri": pushed.json()["request_uri"]})
    done = await rp.follow_to_app(browser, await browser.client.get(f"/authorize?{query}"), flow)
    assert (await rp.exchange(done)).status_code == 200


async def test_bad_request_objects_are_refused(app, browser):
    holder = KeyHolder("ES256")
    rp = await RelyingParty.register(app, assurance=Assurance(jwks=holder.jwks))
    flow = rp.new_flow()
    stranger = KeyHolder("ES256")
    stranger.kid = holder.kid
    hmac_signed = jwt.encode(
        {"alg": "HS256"},
        {"iss": rp.client_id, "client_id": rp.client_id, "exp": int(time.time()) + 60},
        OctKey.import_key(b"k" * 32),
    )
    cases = {
        "unsigned": "eyJhbGciOiJub25lIn0.e30.",
        "HMAC": hmac_signed,
        "another key": request_object(app, rp, stranger, flow),
        "wrong aud": request_object(app, rp, holder, flow, aud="https://elsewhere.example"),
        "expired": request_object(app, rp, holder, flow, exp=int(time.time()) - 120),
        "no exp": request_object(app, rp, holder, flow, exp=None),
        "another client": request_object(app, rp, holder, flow, client_id="someone"),
        "nested": request_object(app, rp, holder, flow, request="x"),
        "a number where a string goes": request_object(app, rp, holder, flow, state=5),
        # Another kind of JWT signed with the client's key is not a request object.
        "a client assertion's typ": request_object(
            app, rp, holder, flow, header_typ="client-authentication+jwt"
        ),
        "a DPoP proof's typ": request_object(app, rp, holder, flow, header_typ="dpop+jwt"),
    }
    for name, signed in cases.items():
        query = urlencode({"client_id": rp.client_id, "request": signed})
        answer = await browser.client.get(f"/authorize?{query}")
        assert answer.status_code == 400, (name, answer.status_code)
        assert "invalid_request_object" in answer.text, name
    meta = (await browser.client.get("/.well-known/openid-configuration")).json()
    assert meta["request_parameter_supported"] is True
    assert "none" not in meta["request_object_signing_alg_values_supported"]
