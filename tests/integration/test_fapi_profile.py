"""The per-client FAPI 2.0 switch (FAPI 2.0 Security Profile 5), on both backends: a client
registered with profile fapi2 must push its requests, authenticate with private_key_jwt by
PS256/ES256/Ed25519, send DPoP proofs, gets ES256 ID tokens and keeps its refresh token."""

from __future__ import annotations

from service.oidc.assurance.profile import Assurance
from tests.holder import KeyHolder
from tests.rp import RelyingParty, query_of


def url(app, path: str) -> str:
    return app.state.oidc.settings.issuer + path


async def fapi_client(app, holder: KeyHolder) -> RelyingParty:
    return await RelyingParty.register(
        app, id_token_alg="ES256", assurance=Assurance(profile="fapi2", jwks=holder.jwks)
    )


async def back(rp, path: str, form: dict[str, str], proof: str | None = None):
    async with rp.back_channel() as c:
        return await c.post(path, data=form, headers={"DPoP": proof} if proof else {})


async def with_nonce(app, rp, holder, path, form_for):
    """Post ``form_for()`` with a proof, fetching the nonce first. The same form (its client
    assertion) goes twice: asking for the nonce did not spend the assertion's jti."""
    form = form_for()
    first = await back(rp, path, form, holder.proof("POST", url(app, path)))
    assert first.json().get("error") == "use_dpop_nonce", first.text
    nonce = first.headers["dpop-nonce"]
    return await back(rp, path, form, holder.proof("POST", url(app, path), nonce=nonce))


async def test_a_fapi_client_completes_the_flow_and_every_shortcut_is_refused(app, browser):
    holder = KeyHolder("ES256")
    rp = await fapi_client(app, holder)
    assert rp.secret is None
    issuer = url(app, "")
    # Not pushed: refused at /authorize.
    direct = await rp.start(browser, rp.new_flow())
    assert query_of(direct.headers["location"])["error"] == "invalid_request"
    flow = rp.new_flow()
    request = {k: v for k, v in rp.authorize_params(flow).items() if k != "client_id"}
    pushed = await with_nonce(
        app, rp, holder, "/par", lambda: {**request, **holder.assertion_form(rp.client_id, issuer)}
    )
    assert pushed.status_code == 201, pushed.text
    start = await browser.client.get(
        "/authorize",
        params={"client_id": rp.client_id, "request_uri": pushed.json()["request_uri"]},
    )
    done = await rp.follow_to_app(browser, start, flow)
    assert done.params["iss"] == issuer
    grant = rp.code_grant(done)
    # Without a proof, or with a secret-less Bearer exchange: refused before the code is used.
    bare = await back(rp, "/token", {**grant, **holder.assertion_form(rp.client_id, issuer)})
    assert bare.json()["error"] == "invalid_dpop_proof"
    answer = await with_nonce(
        app, rp, holder, "/token", lambda: {**grant, **holder.assertion_form(rp.client_id, issuer)}
    )
    assert answer.status_code == 200, answer.text
    tokens = answer.json()
    assert tokens["token_type"] == "DPoP"
    assert (await rp.id_claims(tokens["id_token"], alg="ES256"))["aud"] == rp.client_id
    # No rotation: the same refresh token comes back, and works again.
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    for _ in range(2):
        again = await with_nonce(
            app,
            rp,
            holder,
            "/token",
            lambda: {**refresh, **holder.assertion_form(rp.client_id, issuer)},
        )
        assert again.status_code == 200, again.text
        assert again.json()["refresh_token"] == tokens["refresh_token"]


async def test_a_fapi_client_may_not_sign_with_rs256(app):
    holder = KeyHolder("RS256")
    rp = await fapi_client(app, holder)
    form = {"grant_type": "authorization_code", "code": "x", "redirect_uri": rp.redirect_uri}
    answer = await back(rp, "/token", {**form, **holder.assertion_form(rp.client_id, url(app, ""))})
    assert answer.status_code == 401
    assert "RS256" in answer.json()["error_description"]
