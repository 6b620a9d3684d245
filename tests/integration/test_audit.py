"""The audit trail: events for sign-ins, passkeys, consent, revocation and admin actions, with
actor, address and user agent; the account's recent activity; the admin API; retention."""

from __future__ import annotations

import base64
import re
from datetime import timedelta

import pytest

from service import audit
from service.db import users
from service.lifecycle.sweeper import sweep
from tests.conftest import asgi_client
from tests.factories import signed_up
from tests.rp import RelyingParty
from tests.softauthn import SoftAuthenticator

ADMIN = "admin-token-" + "z" * 32


@pytest.fixture
async def admin(make_app):
    app = make_app(admin_token=ADMIN)
    async with asgi_client(app) as c:
        c.headers["Authorization"] = f"Bearer {ADMIN}"
        yield app, c


async def events(client, **params):
    response = await client.get("/admin/events", params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def test_account_actions_are_recorded_with_actor_address_and_agent(admin, clock):
    app, api = admin
    async with asgi_client(app) as c:
        browser, auth, username = await signed_up(c)
        added = SoftAuthenticator()
        assert (await browser.add_passkey(added)).status_code == 200
        page = (await c.get("/account")).text
        newest = re.findall(r'data-passkey-id="(\d+)"', page)[-1]
        assert (await browser.form(f"/account/passkeys/{newest}/delete")).status_code == 303
        await browser.form("/signout")
        assert (await browser.signin(auth)).status_code == 200
        async with asgi_client(app) as c2:
            _, stranger, _ = await signed_up(c2)
        refused = await browser.signin(stranger, username=username)
        assert refused.status_code == 400
    mine = await events(api, user=username)
    kinds = [e["kind"] for e in mine]
    for kind in ("signup", "passkey.added", "passkey.removed", "signin.passkey"):
        assert kind in kinds, kind
    first = mine[-1]
    assert first["kind"] == "signup" and first["actor"] == "user"
    assert first["ip"] == "127.0.0.1" and first["user_agent"].startswith("python-httpx")
    # This test's clock stands still: its own failure is the one stamped with its time (tests
    # that moved their clock on may have recorded later ones in the shared database).
    failed = await events(api, kind="signin.passkey.failed", limit=100)
    ours = [e for e in failed if e["at"] == clock.now().isoformat()]
    assert ours and ours[0]["detail"] == "unknown_passkey" and ours[0]["user"] is None


async def test_consent_revocation_and_client_admin_are_recorded(admin):
    app, api = admin
    created = await api.post(
        "/admin/clients",
        json={"name": "Audited", "redirect_uris": ["https://app.example/callback"]},
    )
    client_id = created.json()["client_id"]
    rp = RelyingParty(app, client_id, created.json()["client_secret"])
    async with asgi_client(app) as c:
        browser, _, username = await signed_up(c)
        flow = rp.new_flow()
        page = await rp.start(browser, flow)
        interaction = re.search(r"/interaction/([^/\"]+)/consent", page.text).group(1)
        allowed = await browser.form(f"/interaction/{interaction}/consent", {"decision": "allow"})
        body = (await rp.exchange(await rp.follow_to_app(browser, allowed, flow))).json()
        raw = base64.b64encode(f"{client_id}:{rp.secret}".encode()).decode()
        async with rp.back_channel() as back:
            await back.post(
                "/revoke",
                data={"token": body["refresh_token"]},
                headers={"Authorization": f"Basic {raw}"},
            )
        await browser.form(f"/account/apps/{client_id}/revoke")
        activity = (await c.get("/account")).text
    assert "<title>Your account · Sesame</title>" in activity
    listed = activity.split('id="activity"', 1)[1]
    assert "App allowed" in listed and "App access removed" in listed
    kinds = {e["kind"]: e for e in await events(api, user=username)}
    assert kinds["consent.given"]["detail"] == client_id
    assert kinds["tokens.revoked"]["actor"] == f"client:{client_id}"
    assert "consent.revoked" in kinds
    admin_actions = await events(api, kind="client.created", limit=5)
    assert any(e["detail"] == client_id and e["actor"] == "admin-api" for e in admin_actions)


async def test_admin_events_filters_and_protection(admin, make_app):
    app, api = admin
    async with asgi_client(app) as c:
        _, _, username = await signed_up(c)
    assert (await api.get("/admin/events", params={"user": "nobody-here"})).status_code == 404
    assert len(await events(api, limit=1)) == 1
    future = (app.state.ctx.clock.now() + timedelta(days=1)).isoformat()
    assert [e["kind"] for e in await events(api, user=username)] == ["signup"]
    assert await events(api, user=username, since=future) == []
    async with asgi_client(app) as anonymous:
        assert (await anonymous.get("/admin/events")).status_code == 401


async def test_old_events_are_pruned_after_the_retention(app, client, other_client, clock):
    async def events_of(username: str) -> list[dict]:
        async with app.state.ctx.db.session() as db:
            user = await users.by_username_key(db, username)
        assert user is not None
        return await audit.search(app.state.ctx.db, user_id=user.id, limit=100)

    _, _, old = await signed_up(client)
    assert await events_of(old)
    clock.advance(366 * 86400)
    _, _, new = await signed_up(other_client)
    ctx = app.state.ctx
    report = await sweep(ctx.db, clock, ctx.settings, kinds=["audit_events"])
    assert report.counts["audit_events"] >= 1
    assert await events_of(old) == []
    assert [e["kind"] for e in await events_of(new)] == ["signup"]
