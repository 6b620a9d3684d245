"""DPoP, sender-constrained tokens (RFC 9449), on both backends. A client proves it holds a key
at /token (after fetching Sesame's nonce), gets tokens bound to that key, and UserInfo accepts
them only with a fresh proof by it. Each rule has its refusal: a replayed proof, a wrong htu,
a missing nonce, an old iat, a token without its proof or as a bearer token, another key, an
HMAC or private-keyed proof, a code bound by dpop_jkt or PAR to another key."""

from __future__ import annotations

import base64

from joserfc import jwt
from joserfc.jwk import OctKey

from service.oidc.assurance.profile import Assurance
from tests.holder import KeyHolder
from tests.integration.helpers import counted_statements
from tests.rp import RelyingParty


def url(app, path: str) -> str:
    return app.state.oidc.settings.issuer + path


async def post_token(rp: RelyingParty, form: dict[str, str], proof: str | None = None):
    headers = {"DPoP": proof} if proof else {}
    if rp.secret:
        raw = f"{rp.client_id}:{rp.secret}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(raw).decode()
    else:
        form = {**form, "client_id": rp.client_id}
    async with rp.back_channel() as c:
        return await c.post("/token", data=form, headers=headers)


async def nonce_of(app, rp: RelyingParty, holder: KeyHolder, form: dict[str, str]) -> str:
    """The first proof has no nonce: Sesame answers use_dpop_nonce with one (RFC 9449 8)."""
    first = await post_token(rp, form, holder.proof("POST", url(app, "/token")))
    assert first.status_code == 400, first.text
    assert first.json()["error"] == "use_dpop_nonce"
    return first.headers["dpop-nonce"]


async def dpop_tokens(app, rp, holder, form):
    nonce = await nonce_of(app, rp, holder, form)
    answer = await post_token(rp, form, holder.proof("POST", url(app, "/token"), nonce=nonce))
    assert answer.status_code == 200, answer.text
    return answer.json(), nonce


async def userinfo(rp, token: str, scheme: str = "DPoP", proof: str | None = None):
    headers = {"Authorization": f"{scheme} {token}"}
    if proof:
        headers["DPoP"] = proof
    async with rp.back_channel() as c:
        return await c.get("/userinfo", headers=headers)


async def test_bound_tokens_work_only_with_a_proof_by_their_key(app, browser):
    holder = KeyHolder("ES256")
    rp = await RelyingParty.register(app)
    flow = await rp.authorize(browser)
    tokens, nonce = await dpop_tokens(app, rp, holder, rp.code_grant(flow))
    assert tokens["token_type"] == "DPoP"
    access = tokens["access_token"]
    claims = jwt.decode(access, await rp.jwks()).claims
    assert claims["cnf"] == {"jkt": holder.thumbprint}
    here = url(app, "/userinfo")
    ok = await userinfo(rp, access, proof=holder.proof("GET", here, access_token=access))
    assert ok.status_code == 200, ok.text
    # As a bearer token: refused, and challenged with the DPoP scheme.
    bearer = await userinfo(rp, access, "Bearer")
    assert bearer.status_code == 401
    assert bearer.headers["www-authenticate"].startswith('DPoP error="invalid_token"')
    assert (await userinfo(rp, access)).status_code == 401  # no proof
    replayed = holder.proof("GET", here, access_token=access)
    assert (await userinfo(rp, access, proof=replayed)).status_code == 200
    again = await userinfo(rp, access, proof=replayed)
    assert (
        again.status_code == 401
        and 'error="invalid_dpop_proof"' in again.headers["www-authenticate"]
    )
    thief = KeyHolder("ES256")
    stolen = await userinfo(rp, access, proof=thief.proof("GET", here, access_token=access))
    assert stolen.status_code == 401
    no_ath = await userinfo(rp, access, proof=holder.proof("GET", here))
    assert no_ath.status_code == 401
    # Introspection tells a resource server which key to expect (RFC 9449 6.2).
    async with rp.back_channel() as c:
        raw = f"{rp.client_id}:{rp.secret}".encode()
        seen = await c.post(
            "/introspect",
            data={"token": access},
            headers={"Authorization": "Basic " + base64.b64encode(raw).decode()},
        )
    assert seen.json()["cnf"] == {"jkt": holder.thumbprint}
    assert seen.json()["token_type"] == "DPoP"
    # Refreshing with the same key keeps the binding; the nonce is still good.
    refreshed = await post_token(
        rp,
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        holder.proof("POST", url(app, "/token"), nonce=nonce),
    )
    assert refreshed.status_code == 200 and refreshed.json()["token_type"] == "DPoP"


async def test_each_bad_proof_at_the_token_endpoint_is_refused(app):
    holder = KeyHolder("ES256")
    rp = await RelyingParty.register(app, grant_types=["client_credentials"], redirect_uris=[])
    form = {"grant_type": "client_credentials"}
    nonce = await nonce_of(app, rp, holder, form)
    token_url = url(app, "/token")
    hmac_proof = jwt.encode(
        {"typ": "dpop+jwt", "alg": "HS256", "jwk": {"kty": "oct", "k": "c2VjcmV0"}},
        {"jti": "j", "htm": "POST", "htu": token_url, "iat": 0},
        OctKey.import_key(b"s" * 32),
    )
    cases = {
        "wrong htu": holder.proof("POST", url(app, "/par"), nonce=nonce),
        "wrong htm": holder.proof("GET", token_url, nonce=nonce),
        "old iat": holder.proof("POST", token_url, nonce=nonce, iat=0),
        "wrong typ": holder.proof("POST", token_url, nonce=nonce, typ="JWT"),
        "private key in the header": holder.proof(
            "POST", token_url, nonce=nonce, jwk=holder.key.as_dict(private=True)
        ),
        "HMAC": hmac_proof,
        "not a JWT": "not-a-jwt",
    }
    for name, proof in cases.items():
        answer = await post_token(rp, form, proof)
        assert answer.status_code == 400, (name, answer.text)
        assert answer.json()["error"] == "invalid_dpop_proof", (name, answer.text)
    made_up = await post_token(rp, form, holder.proof("POST", token_url, nonce="made-up"))
    assert made_up.json()["error"] == "use_dpop_nonce"
    proof = holder.proof("POST", token_url, nonce=nonce)
    assert (await post_token(rp, form, proof)).status_code == 200
    replay = await post_token(rp, form, proof)
    assert replay.status_code == 400 and "used before" in replay.json()["error_description"]
    async with rp.back_channel() as c:
        raw = f"{rp.client_id}:{rp.secret}".encode()
        two = await c.post(
            "/token",
            data=form,
            headers=[
                ("Authorization", "Basic " + base64.b64encode(raw).decode()),
                ("DPoP", holder.proof("POST", token_url, nonce=nonce)),
                ("DPoP", holder.proof("POST", token_url, nonce=nonce)),
            ],
        )
    assert two.status_code == 400 and two.json()["error"] == "invalid_dpop_proof"


async def test_a_dpop_bound_client_must_send_proofs(app):
    rp = await RelyingParty.register(
        app,
        grant_types=["client_credentials"],
        redirect_uris=[],
        assurance=Assurance(dpop_bound=True),
    )
    answer = await post_token(rp, {"grant_type": "client_credentials"})
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_dpop_proof"


async def test_a_public_clients_refresh_token_is_bound_to_its_key(app, browser, monkeypatch):
    """Refused without its key, and one statement each (the read): a token stolen without its
    key is never swapped, not even for a moment (``grants.swapped_by_refresh``)."""
    holder = KeyHolder("ES256")
    rp = await RelyingParty.register(app, type="public")
    flow = await rp.authorize(browser)
    tokens, nonce = await dpop_tokens(app, rp, holder, rp.code_grant(flow))
    form = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    token_url = url(app, "/token")
    made = counted_statements(monkeypatch)
    without = await post_token(rp, form)
    assert without.status_code == 400 and without.json()["error"] == "invalid_grant"
    other = KeyHolder("ES256")
    other_nonce = await nonce_of(app, rp, other, form)
    by_other = await post_token(rp, form, other.proof("POST", token_url, nonce=other_nonce))
    assert by_other.status_code == 400 and by_other.json()["error"] == "invalid_grant"
    assert len(made) == 2, made
    mine = await post_token(rp, form, holder.proof("POST", token_url, nonce=nonce))
    assert mine.status_code == 200, mine.text


async def test_dpop_jkt_and_a_pushed_proof_bind_the_code(app, browser):
    holder, other = KeyHolder("ES256"), KeyHolder("ES256")
    rp = await RelyingParty.register(app)
    flow = await rp.authorize(browser, dpop_jkt=holder.thumbprint)
    form = rp.code_grant(flow)
    nonce = await nonce_of(app, rp, other, form)  # refused before the code is touched
    wrong = await post_token(rp, form, other.proof("POST", url(app, "/token"), nonce=nonce))
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    bad = await rp.start(browser, rp.new_flow(), dpop_jkt="short")
    assert "invalid_request" in bad.headers["location"]
    # Pushed with a proof: the code is bound to the proof's key (RFC 9449 10.1).
    pushed_flow = rp.new_flow()
    body = {k: v for k, v in rp.authorize_params(pushed_flow).items() if k != "client_id"}
    raw = f"{rp.client_id}:{rp.secret}".encode()
    basic = {"Authorization": "Basic " + base64.b64encode(raw).decode()}
    async with rp.back_channel() as c:
        first = await c.post(
            "/par", data=body, headers={**basic, "DPoP": holder.proof("POST", url(app, "/par"))}
        )
        assert first.json()["error"] == "use_dpop_nonce"
        proof = holder.proof("POST", url(app, "/par"), nonce=first.headers["dpop-nonce"])
        pushed = await c.post("/par", data=body, headers={**basic, "DPoP": proof})
    assert pushed.status_code == 201, pushed.text
    start = await browser.client.get(
        "/authorize",
        params={"client_id": rp.client_id, "request_uri": pushed.json()["request_uri"]},
    )
    done = await rp.follow_to_app(browser, start, pushed_flow)
    as_bearer = await post_token(rp, rp.code_grant(done))
    assert as_bearer.status_code == 400 and as_bearer.json()["error"] == "invalid_grant"
