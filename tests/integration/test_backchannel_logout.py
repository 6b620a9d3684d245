"""OpenID Connect Back-Channel Logout 1.0: when a person signs out, each app that registered a
logout URI and holds a grant from that session receives a logout token at a real HTTP server,
validated here as section 2.6 says, once, even when the app was down at first."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from joserfc import jwt
from joserfc.jwt import JWTClaimsRegistry

from service.auth import operators
from service.db import queue
from service.db.models import LogoutDelivery
from service.oidc.backchannel import EVENT
from service.oidc.clients import ClientRejected, ClientSpec, create_client
from tests.factories import signed_up
from tests.processes import free_port
from tests.rp import RelyingParty


class LogoutReceiver:
    """An app's back-channel logout endpoint: records each POST, answers ``status``."""

    def __init__(self, port: int, status: int = 200) -> None:
        self.port = port
        self.status = status
        self.tokens: list[str] = []

    @contextlib.contextmanager
    def running(self) -> Iterator[LogoutReceiver]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                form = parse_qs(self.rfile.read(length).decode())
                assert self.headers["Content-Type"] == "application/x-www-form-urlencoded"
                receiver.tokens.extend(form.get("logout_token", []))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()


@pytest.fixture(autouse=True)
async def no_deliveries_left(app):
    """The backend's database outlives a test: start and end with an empty queue, so that each
    test's sender sees its own deliveries only."""
    await _clear(app)
    yield
    await _clear(app)


async def _clear(app) -> None:
    async with app.state.oidc.db.session() as db:
        for row in await queue.pending(db, LogoutDelivery):
            assert row.id is not None
            await queue.remove(db, LogoutDelivery, row.id)
        await db.commit()


@pytest.fixture
def receiver() -> LogoutReceiver:
    return LogoutReceiver(free_port())


@pytest.fixture
async def app_with_logout(app, receiver) -> RelyingParty:
    uri = f"http://127.0.0.1:{receiver.port}/backchannel-logout"
    return await RelyingParty.register(app, backchannel_logout_uri=uri)


async def pending(app) -> list[LogoutDelivery]:
    async with app.state.oidc.db.session() as db:
        return await queue.pending(db, LogoutDelivery)


async def validated(rp: RelyingParty, token: str) -> dict:
    """Section 2.6, as an app must check it."""
    decoded = jwt.decode(token, await rp.jwks(), algorithms=["RS256"])  # 2.6 steps 1-3
    assert decoded.header["typ"] == "logout+jwt"
    claims = dict(decoded.claims)
    JWTClaimsRegistry(  # step 4: iss, aud, iat (and exp), as for an ID token
        leeway=60,  # the test's clock was moved ahead a few seconds
        iss={"essential": True, "value": "http://localhost:8000"},
        aud={"essential": True, "value": rp.client_id},
        iat={"essential": True},
        jti={"essential": True},
    ).validate(claims)
    assert "sub" in claims or "sid" in claims  # step 5
    assert claims["events"] == {EVENT: {}}  # step 6: the member, an empty object
    assert "nonce" not in claims  # step 7
    return claims


async def test_sign_out_is_told_once_even_when_the_app_was_down(
    app, client, app_with_logout, receiver, clock
):
    rp = app_with_logout
    quiet = await RelyingParty.register(app)  # registered no logout URI: told nothing
    browser, _, _ = await signed_up(client)
    id_claims = await rp.id_claims((await rp.tokens(browser))["id_token"])
    await quiet.tokens(browser)
    sender = app.state.logouts

    assert (await browser.form("/signout")).status_code == 303  # answers at once
    assert [row.sid for row in await pending(app)] == [id_claims["sid"]]
    assert await sender.deliver_due() == 0  # the app is down
    [row] = await pending(app)
    assert row.attempts == 1 and "ConnectError" in row.last_error

    with receiver.running():
        assert await sender.deliver_due() == 0  # not due before its backoff
        clock.advance(6)
        assert await sender.deliver_due() == 1
        clock.advance(3600)
        assert await sender.deliver_due() == 0
    assert await pending(app) == []
    [token] = receiver.tokens
    claims = await validated(rp, token)
    assert claims["sid"] == id_claims["sid"] and claims["sub"] == id_claims["sub"]


async def test_every_way_a_session_ends_tells_the_apps(app, make_app, app_with_logout, client):
    rp = app_with_logout
    ctx = app.state.ctx
    # Sign out everywhere: one token per session the app holds a grant from.
    browser, _, _ = await signed_up(client)
    await rp.tokens(browser)
    assert (await browser.form("/account/signout-everywhere")).status_code == 303
    assert len(await pending(app)) == 1
    # An operator ending a user's sessions, disabling or deleting the account.
    for end in ("revoke", "disable", "delete"):
        browser, _, username = await signed_up(client)
        await rp.tokens(browser)
        user = (await operators.find_user(ctx, username)).user
        if end == "revoke":
            await operators.revoke_sessions(ctx, user)
        elif end == "disable":
            await operators.set_disabled(ctx, user, True)
        else:
            await operators.delete_user(ctx, user)
    assert len(await pending(app)) == 4


async def test_a_refused_token_is_not_sent_again_but_a_server_error_is(
    app, client, app_with_logout, receiver, clock
):
    browser, _, _ = await signed_up(client)
    await app_with_logout.tokens(browser)
    await browser.form("/signout")
    receiver.status = 503
    with receiver.running():
        assert await app.state.logouts.deliver_due() == 0
        assert (await pending(app))[0].last_error == "HTTP 503"
        receiver.status = 400  # the app refuses the token: sending it again would not help
        clock.advance(6)
        assert await app.state.logouts.deliver_due() == 0
    assert await pending(app) == []
    assert len(receiver.tokens) == 2


@pytest.mark.parametrize(
    "uri", ["http://app.example/logout", "https://app.example/logout#x", "javascript:x"]
)
async def test_logout_uris_follow_the_redirect_rules(app, uri):
    spec = ClientSpec(
        name="App", redirect_uris=["https://app.example/cb"], backchannel_logout_uri=uri
    )
    with pytest.raises(ClientRejected, match="back-channel logout URI"):
        await create_client(app.state.oidc, spec)


async def test_discovery_says_back_channel_logout_is_supported(client):
    meta = (await client.get("/.well-known/openid-configuration")).json()
    assert meta["backchannel_logout_supported"] is True
    assert meta["backchannel_logout_session_supported"] is True
