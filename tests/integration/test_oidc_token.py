"""The token endpoint: codes, PKCE, refresh rotation, client authentication, client
credentials; and the endpoints that take its tokens (userinfo, revocation, introspection)."""

from __future__ import annotations

import asyncio
import base64
import uuid

import pytest
from sqlalchemy import update

from service import audit
from service.db.models import User
from service.oidc import codes
from tests.integration.helpers import counted_statements, grants_of_client
from tests.rp import Flow, RelyingParty


def assert_oauth_error(response, status, error):
    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    assert "error_description" in response.json()
    assert response.headers["cache-control"] == "no-store"


async def test_token_response_is_not_cached(rp, browser):
    flow = await rp.authorize(browser)
    response = await rp.exchange(flow)
    assert response.headers["cache-control"] == "no-store"
    assert {"access_token", "id_token", "refresh_token", "expires_in"} <= set(response.json())


async def test_client_secret_basic_and_post_both_work(rp, browser):
    for method in ("basic", "post"):
        flow = await rp.authorize(browser)
        data = rp.code_grant(flow)
        assert (await rp.token(data, auth=method)).status_code == 200, method


async def test_client_authentication_failures_are_401_invalid_client(rp, browser):
    flow = await rp.authorize(browser)
    data = {"grant_type": "authorization_code", "code": flow.params["code"]}
    rp_wrong = RelyingParty(rp.app, rp.client_id, "wrong-secret")
    response = await rp_wrong.token(data)
    assert_oauth_error(response, 401, "invalid_client")
    assert response.headers["www-authenticate"].startswith("Basic")
    assert_oauth_error(await rp.token(data, auth="none"), 401, "invalid_client")
    unknown = RelyingParty(rp.app, "nobody", "x")
    assert_oauth_error(await unknown.token(data), 401, "invalid_client")
    # The failed attempts did not burn the code.
    assert (await rp.exchange(flow)).status_code == 200


async def test_two_authentication_methods_at_once_are_refused(rp, browser):
    flow = await rp.authorize(browser)
    raw = base64.b64encode(f"{rp.client_id}:{rp.secret}".encode()).decode()
    async with rp.back_channel() as c:
        response = await c.post(
            "/token",
            data={
                "grant_type": "authorization_code",
                "code": flow.params["code"],
                "client_secret": rp.secret,
            },
            headers={"Authorization": f"Basic {raw}"},
        )
    assert_oauth_error(response, 400, "invalid_request")


async def test_grant_type_errors(rp):
    assert_oauth_error(await rp.token({}), 400, "invalid_request")
    assert_oauth_error(await rp.token({"grant_type": "password"}), 400, "unsupported_grant_type")
    assert_oauth_error(await rp.token({"grant_type": "implicit"}), 400, "unsupported_grant_type")


async def test_code_reused_at_once_is_invalid_grant(rp, browser):
    flow = await rp.authorize(browser)
    assert (await rp.exchange(flow)).status_code == 200
    assert_oauth_error(await rp.exchange(flow), 400, "invalid_grant")


async def test_code_reused_later_revokes_the_tokens_of_the_first_use(rp, browser, clock):
    flow = await rp.authorize(browser)
    first = (await rp.exchange(flow)).json()
    assert (await rp.userinfo(first["access_token"])).status_code == 200
    clock.advance(30)
    assert_oauth_error(await rp.exchange(flow), 400, "invalid_grant")
    assert (await rp.userinfo(first["access_token"])).status_code == 401
    assert_oauth_error(await rp.refresh(first["refresh_token"]), 400, "invalid_grant")


async def test_code_expires_after_60_seconds(rp, browser, clock):
    flow = await rp.authorize(browser)
    clock.advance(61)
    assert_oauth_error(await rp.exchange(flow), 400, "invalid_grant")


async def test_code_minted_for_client_a_cannot_be_redeemed_by_client_b(app, rp, browser):
    other = await RelyingParty.register(app)
    flow = await rp.authorize(browser)
    data = rp.code_grant(flow)
    assert_oauth_error(await other.token(data), 400, "invalid_grant")


async def test_code_is_bound_to_the_redirect_uri(app, browser):
    rp = await RelyingParty.register(
        app, redirect_uris=["https://app.example/a", "https://app.example/b"]
    )
    flow = await rp.authorize(browser)
    response = await rp.exchange(flow, redirect_uri="https://app.example/b")
    assert_oauth_error(response, 400, "invalid_grant")
    assert_oauth_error(await rp.exchange(flow, redirect_uri=""), 400, "invalid_request")


@pytest.mark.parametrize(
    "verifier",
    ["", "wrong-" + "x" * 60, "short", "x" * 129, "a" * 42 + "!"],
)
async def test_pkce_verifier_must_match(rp, browser, verifier):
    flow = await rp.authorize(browser)
    assert_oauth_error(await rp.exchange(flow, code_verifier=verifier), 400, "invalid_grant")


async def test_pkce_downgrade_verifier_without_challenge_is_refused(rp, browser):
    flow = await rp.authorize(browser, rp.new_flow(pkce=False))
    response = await rp.exchange(flow, code_verifier="a" * 50)
    assert_oauth_error(response, 400, "invalid_grant")


async def test_confidential_client_without_pkce_still_works(rp, browser):
    flow = await rp.authorize(browser, rp.new_flow(pkce=False))
    assert (await rp.exchange(flow)).status_code == 200


async def code_replay_events(app) -> list:
    events = await audit.search(app.state.ctx.db, kind="tokens.revoked", limit=1000)
    return [e for e in events if "authorization code used twice" in e["detail"]]


async def test_a_code_that_was_never_issued_leaves_no_trace(app, rp):
    """Red-team finding: a bogus code presented twice was taken for a replay, wrote a store key
    and a tokens.revoked audit event each time."""
    before = len(await code_replay_events(app))
    bogus = Flow(
        state="s", nonce="n", verifier="v" * 43, params={"code": "never-issued-" + "x" * 30}
    )
    for _ in range(3):
        response = await rp.exchange(bogus)
        assert_oauth_error(response, 400, "invalid_grant")
        assert "invalid or has expired" in response.json()["error_description"]
    assert len(await code_replay_events(app)) == before
    store = app.state.oidc.store
    assert await store.get(codes._key(app.state.oidc, bogus.params["code"])) is None


class ReplayDuringExchange:
    """The store, with one interleaving forced: right after the first exchange claims its
    code, and before it writes its grant, a replay of the same code runs to completion."""

    def __init__(self, store, replay) -> None:
        self._store, self._replay = store, replay
        self.replay = None

    def __getattr__(self, name):
        return getattr(self._store, name)

    async def claim(self, key, tombstone, ttl_seconds):
        previous = await self._store.claim(key, tombstone, ttl_seconds)
        if self.replay is None:
            self.replay = asyncio.ensure_future(self._replay())
            await self.replay
        return previous


async def test_a_replay_while_the_first_exchange_runs_revokes_what_it_issues(app, rp, browser):
    """Fault-run finding: a replay that arrives before the winner's grant is written found
    nothing to revoke, and the winner's tokens kept working. The replay writes that grant
    revoked; the winner's insert then writes nothing and its exchange is refused."""
    flow = await rp.authorize(browser)
    before = len(await code_replay_events(app))
    oidc = app.state.oidc
    racing = ReplayDuringExchange(oidc.store, lambda: rp.exchange(flow))
    object.__setattr__(oidc, "store", racing)
    try:
        first = await rp.exchange(flow)
        replayed = await racing.replay
    finally:
        object.__setattr__(oidc, "store", racing._store)
    assert_oauth_error(replayed, 400, "invalid_grant")
    assert_oauth_error(first, 400, "invalid_grant")
    assert "used twice" in first.json()["error_description"]
    grants = await grants_of_client(app, rp.client_id)
    assert len(grants) == 1 and grants[0].revoked_at is not None
    assert len(await code_replay_events(app)) == before + 1


async def test_same_code_redeemed_twenty_times_at_once_revokes_the_winner(rp, browser):
    """RFC 6749 4.1.2 under a race: 20 concurrent exchanges of one code, 10 rounds. At most one
    gets tokens, and whatever it got is refused afterwards in every round, however the replays
    and the winner's grant write interleave."""
    winners = 0
    for _ in range(10):
        flow = await rp.authorize(browser)
        responses = await asyncio.gather(*(rp.exchange(flow) for _ in range(20)))
        ok = [r for r in responses if r.status_code == 200]
        assert len(ok) <= 1
        for refused in (r for r in responses if r.status_code != 200):
            assert_oauth_error(refused, 400, "invalid_grant")
        for won in ok:
            winners += 1
            body = won.json()
            assert (await rp.userinfo(body["access_token"])).status_code == 401
            assert_oauth_error(await rp.refresh(body["refresh_token"]), 400, "invalid_grant")
    print(f"code race: the winner got tokens in {winners} of 10 rounds; all were revoked")


async def test_refresh_rotates_and_reuse_revokes_the_family(rp, browser):
    first = await rp.tokens(browser)
    second = await rp.refresh(first["refresh_token"])
    assert second.status_code == 200, second.text
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    claims = await rp.id_claims(rotated["id_token"])
    assert claims["sub"] == (await rp.id_claims(first["id_token"]))["sub"]
    # The old one again: refused, and the whole family (the new one included) ends.
    assert_oauth_error(await rp.refresh(first["refresh_token"]), 400, "invalid_grant")
    assert_oauth_error(await rp.refresh(rotated["refresh_token"]), 400, "invalid_grant")
    assert (await rp.userinfo(rotated["access_token"])).status_code == 401


async def test_same_refresh_token_ten_times_in_parallel_has_one_winner(rp, browser):
    body = await rp.tokens(browser)
    responses = await asyncio.gather(*(rp.refresh(body["refresh_token"]) for _ in range(10)))
    assert sorted(r.status_code for r in responses) == [200] + [400] * 9


async def test_a_refresh_is_one_statement_on_postgresql(backend, rp, browser, monkeypatch):
    """PostgreSQL: the read and the compare-and-set in one statement; SQLite: the two. A
    refused refresh (a scope beyond the grant's) gives the swapped token back: it still works."""
    body = await rp.tokens(browser)
    made = counted_statements(monkeypatch)
    refreshed = await rp.refresh(body["refresh_token"])
    assert refreshed.status_code == 200, refreshed.text
    assert len(made) == (1 if backend.name == "postgres" else 2), made
    made.clear()
    token = refreshed.json()["refresh_token"]
    assert_oauth_error(await rp.refresh(token, scope="openid admin"), 400, "invalid_scope")
    assert len(made) == (2 if backend.name == "postgres" else 1), made
    assert (await rp.refresh(token)).status_code == 200


async def test_refresh_token_is_bound_to_its_client(app, rp, browser):
    other = await RelyingParty.register(app)
    body = await rp.tokens(browser)
    assert_oauth_error(await other.refresh(body["refresh_token"]), 400, "invalid_grant")
    assert (await rp.refresh(body["refresh_token"])).status_code == 200


async def test_refresh_may_narrow_but_not_widen_scope(app, browser):
    rp = await RelyingParty.register(app)
    body = await rp.tokens(browser, scope="openid email")
    assert_oauth_error(
        await rp.refresh(body["refresh_token"], scope="openid email profile"), 400, "invalid_scope"
    )
    narrowed = await rp.refresh(body["refresh_token"], scope="openid")
    assert narrowed.json()["scope"] == "openid"
    info = (await rp.userinfo(narrowed.json()["access_token"])).json()
    assert "email" not in info


async def test_refresh_idle_expiry(app, browser, clock):
    rp = await RelyingParty.register(app)
    app.state.oidc.settings.refresh_idle_seconds = 3600
    body = await rp.tokens(browser)
    clock.advance(3601)
    assert_oauth_error(await rp.refresh(body["refresh_token"]), 400, "invalid_grant")


async def test_refresh_stops_after_sign_out(rp, browser):
    body = await rp.tokens(browser)
    assert (await browser.form("/signout")).status_code == 303
    assert_oauth_error(await rp.refresh(body["refresh_token"]), 400, "invalid_grant")
    assert (await rp.userinfo(body["access_token"])).status_code == 401


async def test_refresh_stops_after_sign_out_everywhere(rp, browser):
    body = await rp.tokens(browser)
    assert (await browser.form("/account/signout-everywhere")).status_code == 303
    assert_oauth_error(await rp.refresh(body["refresh_token"]), 400, "invalid_grant")


async def test_refresh_stops_for_a_disabled_user(app, rp, browser, clock):
    body = await rp.tokens(browser)
    sub = (await rp.id_claims(body["id_token"]))["sub"]
    async with app.state.ctx.db.session() as db:
        await db.exec(
            update(User).where(User.public_id == uuid.UUID(sub)).values(disabled_at=clock.now())
        )
        await db.commit()
    assert_oauth_error(await rp.refresh(body["refresh_token"]), 400, "invalid_grant")
    assert (await rp.userinfo(body["access_token"])).status_code == 401


async def test_userinfo_get_post_and_form_body(rp, browser):
    body = await rp.tokens(browser)
    got = await rp.userinfo(body["access_token"])
    posted = await rp.userinfo(body["access_token"], method="POST")
    assert got.status_code == posted.status_code == 200
    assert got.json() == posted.json()
    async with rp.back_channel() as c:
        form = await c.post("/userinfo", data={"access_token": body["access_token"]})
    assert form.json() == got.json()
    assert got.headers["cache-control"] == "no-store"


async def test_userinfo_claims_follow_scope(rp, browser):
    only_openid = await rp.tokens(browser, scope="openid")
    assert set((await rp.userinfo(only_openid["access_token"])).json()) == {"sub"}
    email = await rp.tokens(browser, scope="openid email")
    assert set((await rp.userinfo(email["access_token"])).json()) == {
        "sub",
        "email",
        "email_verified",
    }


async def test_userinfo_refuses_bad_tokens_with_bearer_challenge(rp, browser, clock):
    for token in ("", "garbage", "a.b.c"):
        response = await rp.userinfo(token)
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    body = await rp.tokens(browser)
    clock.advance(601)
    assert (await rp.userinfo(body["access_token"])).status_code == 401
    # An ID token is not an access token.
    clock.advance(-601)
    assert (await rp.userinfo(body["id_token"])).status_code == 401


async def test_revoking_a_refresh_token_ends_the_grant(rp, browser):
    body = await rp.tokens(browser)
    async with rp.back_channel() as c:
        raw = base64.b64encode(f"{rp.client_id}:{rp.secret}".encode()).decode()
        response = await c.post(
            "/revoke",
            data={"token": body["refresh_token"], "token_type_hint": "refresh_token"},
            headers={"Authorization": f"Basic {raw}"},
        )
    assert response.status_code == 200
    assert_oauth_error(await rp.refresh(body["refresh_token"]), 400, "invalid_grant")
    assert (await rp.userinfo(body["access_token"])).status_code == 401


async def _revoke(rp, token):
    raw = base64.b64encode(f"{rp.client_id}:{rp.secret}".encode()).decode()
    async with rp.back_channel() as c:
        return await c.post(
            "/revoke", data={"token": token}, headers={"Authorization": f"Basic {raw}"}
        )


async def test_revoking_an_access_token_and_other_clients_tokens(app, rp, browser):
    body = await rp.tokens(browser)
    other = await RelyingParty.register(app)
    # Another client's attempt answers 200 and changes nothing (RFC 7009 2.2).
    assert (await _revoke(other, body["access_token"])).status_code == 200
    assert (await _revoke(other, body["refresh_token"])).status_code == 200
    assert (await rp.userinfo(body["access_token"])).status_code == 200
    assert (await _revoke(rp, body["access_token"])).status_code == 200
    assert (await rp.userinfo(body["access_token"])).status_code == 401
    assert (await _revoke(rp, "not-a-token")).status_code == 200


async def test_revocation_requires_client_authentication(rp, browser):
    body = await rp.tokens(browser)
    async with rp.back_channel() as c:
        response = await c.post("/revoke", data={"token": body["refresh_token"]})
    assert_oauth_error(response, 401, "invalid_client")
    assert (await rp.refresh(body["refresh_token"])).status_code == 200


async def test_introspection(app, rp, browser):
    body = await rp.tokens(browser)
    raw = base64.b64encode(f"{rp.client_id}:{rp.secret}".encode()).decode()
    auth = {"Authorization": f"Basic {raw}"}
    async with rp.back_channel() as c:
        active = (
            await c.post("/introspect", data={"token": body["access_token"]}, headers=auth)
        ).json()
        assert active["active"] is True
        assert active["client_id"] == rp.client_id
        assert active["scope"] == "openid profile email"
        refresh = (
            await c.post("/introspect", data={"token": body["refresh_token"]}, headers=auth)
        ).json()
        assert refresh["active"] is True
        assert refresh["token_type"] == "refresh_token"
        assert (await c.post("/introspect", data={"token": "nope"}, headers=auth)).json() == {
            "active": False
        }
        await _revoke(rp, body["refresh_token"])
        gone = await c.post("/introspect", data={"token": body["access_token"]}, headers=auth)
        assert gone.json() == {"active": False}
    public = await RelyingParty.register(app, type="public")
    async with rp.back_channel() as c:
        refused = await c.post(
            "/introspect", data={"token": body["access_token"], "client_id": public.client_id}
        )
    assert_oauth_error(refused, 401, "invalid_client")


async def test_client_credentials(app):
    service = await RelyingParty.register(
        app, redirect_uris=[], grant_types=["client_credentials"], scopes=["openid", "email"]
    )
    response = await service.token({"grant_type": "client_credentials", "scope": "email openid"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "id_token" not in body and "refresh_token" not in body
    assert body["scope"] == "email"
    assert (await service.userinfo(body["access_token"])).status_code == 401
    public = await RelyingParty.register(app, type="public")
    assert_oauth_error(
        await public.token({"grant_type": "client_credentials"}), 400, "unauthorized_client"
    )


async def test_repeated_token_parameters_are_refused(rp, browser):
    flow = await rp.authorize(browser)
    raw = base64.b64encode(f"{rp.client_id}:{rp.secret}".encode()).decode()
    async with rp.back_channel() as c:
        response = await c.post(
            "/token",
            content=f"grant_type=authorization_code&code={flow.params['code']}&code=x",
            headers={
                "Authorization": f"Basic {raw}",
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
    assert_oauth_error(response, 400, "invalid_request")


async def test_no_access_token_in_the_query_string(rp, browser):
    body = await rp.tokens(browser)
    async with rp.back_channel() as c:
        response = await c.get("/userinfo", params={"access_token": body["access_token"]})
    assert response.status_code == 401


async def test_revoked_refresh_token_stays_revoked_after_a_restart(make_app, app, rp, browser):
    body = await rp.tokens(browser)
    assert (await _revoke(rp, body["refresh_token"])).status_code == 200
    restarted = RelyingParty(make_app(), rp.client_id, rp.secret, rp.redirect_uri)
    assert_oauth_error(await restarted.refresh(body["refresh_token"]), 400, "invalid_grant")
    assert (await restarted.userinfo(body["access_token"])).status_code == 401


async def test_revocation_with_storage_down_is_an_error_not_a_success(make_app):
    broken = make_app(database_url="postgresql+asyncpg://postgres@127.0.0.1:1/none")
    rp = RelyingParty(broken, "some-client", "some-secret")
    raw = base64.b64encode(b"some-client:some-secret").decode()
    async with rp.back_channel() as c:
        response = await c.post(
            "/revoke", data={"token": "x" * 22 + ".y"}, headers={"Authorization": f"Basic {raw}"}
        )
    assert response.status_code == 503
    assert response.json()["error"] == "temporarily_unavailable"
