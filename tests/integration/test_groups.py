"""Groups (issue 15): the admin API and ``sesame groups``, the ``groups`` claim, and apps that
admit only some groups: anyone else gets a page saying so and the app ``access_denied``, and a
person taken out of the group gets no more tokens."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import update
from sqlmodel import col, select

from service.db.models import AuditEvent, OAuthClient
from tests.conftest import asgi_client
from tests.factories import signed_up
from tests.integration.test_oidc_admin import ADMIN, sesame, sesame_json
from tests.rp import RelyingParty, query_of

AUTH = {"Authorization": f"Bearer {ADMIN}"}


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(3)}"


@pytest.fixture
def admin_app(make_app):
    return make_app(admin_token=ADMIN)


@pytest.fixture
async def admin(admin_app):
    async with asgi_client(admin_app) as c:
        yield c


@pytest.fixture
async def person(admin_app):
    async with asgi_client(admin_app) as c:
        browser, _, username = await signed_up(c)
        yield browser, username


async def test_admin_api_groups_and_members(admin, person):
    _, username = person
    name = unique("Staff")
    created = await admin.post("/admin/groups", json={"name": name}, headers=AUTH)
    assert created.status_code == 201, created.text
    assert created.json()["member_count"] == 0
    # The name is unique whatever its case; a malformed one is refused with its rule.
    taken = await admin.post("/admin/groups", json={"name": name.lower()}, headers=AUTH)
    assert (taken.status_code, taken.json()["error"]) == (409, "group_taken")
    for bad in ("-dash", "has space", "x" * 65, "nul\x00"):
        refused = await admin.post("/admin/groups", json={"name": bad}, headers=AUTH)
        assert refused.status_code == 400, (bad, refused.text)

    member_url = f"/admin/groups/{name}/members/{username}"
    assert (await admin.put(member_url, headers=AUTH)).status_code == 204
    assert (await admin.put(member_url, headers=AUTH)).status_code == 204  # idempotent
    shown = (await admin.get(f"/admin/groups/{name.upper()}", headers=AUTH)).json()
    assert [m["username"] for m in shown["members"]] == [username]
    listed = (await admin.get("/admin/groups", headers=AUTH)).json()
    assert next(g for g in listed if g["name"] == name)["member_count"] == 1
    assert (
        await admin.put(f"/admin/groups/{name}/members/nobody-here", headers=AUTH)
    ).status_code == 404
    assert (
        await admin.put(f"/admin/groups/none-{name}/members/{username}", headers=AUTH)
    ).status_code == 404

    assert (await admin.delete(member_url, headers=AUTH)).status_code == 204
    assert (await admin.delete(member_url, headers=AUTH)).status_code == 404
    assert (await admin.delete(f"/admin/groups/{name}", headers=AUTH)).status_code == 204
    assert (await admin.get(f"/admin/groups/{name}", headers=AUTH)).status_code == 404
    assert (await admin.get("/admin/groups")).status_code == 401


async def test_a_group_an_app_admits_cannot_be_deleted(admin):
    name = unique("ops")
    assert (await admin.post("/admin/groups", json={"name": name}, headers=AUTH)).status_code == 201
    app = await admin.post(
        "/admin/clients",
        json={"name": "Ops", "redirect_uris": ["https://ops.example/cb"], "allowed_groups": [name]},
        headers=AUTH,
    )
    assert app.status_code == 201, app.text
    cid = app.json()["client_id"]
    assert app.json()["allowed_groups"] == [name]
    refused = await admin.delete(f"/admin/groups/{name}", headers=AUTH)
    assert (refused.status_code, refused.json()["error"]) == (409, "group_in_use")
    assert cid in refused.json()["message"]
    unknown = await admin.patch(
        f"/admin/clients/{cid}", json={"allowed_groups": ["no-such-group"]}, headers=AUTH
    )
    assert unknown.status_code == 400 and "no-such-group" in unknown.json()["message"]
    assert (await admin.get(f"/admin/clients/{cid}", headers=AUTH)).json()["allowed_groups"] == [
        name
    ]
    opened = await admin.patch(f"/admin/clients/{cid}", json={"allowed_groups": []}, headers=AUTH)
    assert opened.json()["allowed_groups"] == []
    assert (await admin.delete(f"/admin/groups/{name}", headers=AUTH)).status_code == 204


async def _restricted_app(admin_app, admin, group: str, **spec) -> RelyingParty:
    assert (
        await admin.post("/admin/groups", json={"name": group}, headers=AUTH)
    ).status_code == 201
    return await RelyingParty.register(
        admin_app,
        name="Acme",
        scopes=["openid", "profile", "groups"],
        allowed_groups=[group],
        **spec,
    )


async def test_only_members_get_in_and_taken_out_they_get_no_more_tokens(admin_app, admin, person):
    browser, username = person
    group = unique("acme-team")
    rp = await _restricted_app(admin_app, admin, group)

    # Not a member: a page that says so (403), and the way back tells the app access_denied.
    flow = rp.new_flow()
    shown = await rp.start(browser, flow, scope="openid profile groups")
    assert shown.status_code == 403, shown.text
    assert "does not have access to Acme" in shown.text
    uid = shown.text.split('action="/interaction/')[1].split("/abort")[0]
    back = await browser.form(f"/interaction/{uid}/abort")
    assert back.status_code == 303
    answer = query_of(back.headers["location"])
    assert answer["error"] == "access_denied" and answer["state"] == flow.state
    assert "group" in answer["error_description"]
    # prompt=none hears the same at once.
    silent = await rp.start(browser, rp.new_flow(), scope="openid profile groups", prompt="none")
    assert query_of(silent.headers["location"])["error"] == "access_denied"
    async with admin_app.state.ctx.db.session() as db:
        refusals = (
            await db.exec(
                select(AuditEvent).where(
                    AuditEvent.kind == "app.refused", AuditEvent.detail == rp.client_id
                )
            )
        ).all()
    assert len(refusals) == 2

    # A member: tokens, with the group in the ID token and at UserInfo.
    member_url = f"/admin/groups/{group}/members/{username}"
    assert (await admin.put(member_url, headers=AUTH)).status_code == 204
    tokens = await rp.tokens(browser, scope="openid profile groups")
    claims = await rp.id_claims(tokens["id_token"])
    assert claims["groups"] == [group]
    info = await rp.userinfo(tokens["access_token"])
    assert info.json()["groups"] == [group]

    # Taken out: no refresh, UserInfo refuses the access token, a new sign-in is refused.
    assert (await admin.delete(member_url, headers=AUTH)).status_code == 204
    refreshed = await rp.refresh(tokens["refresh_token"])
    assert (refreshed.status_code, refreshed.json()["error"]) == (400, "invalid_grant"), (
        refreshed.text
    )
    assert (await rp.userinfo(tokens["access_token"])).status_code == 401
    assert (await rp.start(browser, rp.new_flow(), scope="openid groups")).status_code == 403
    # Back in: the refresh token still works (it was refused, not revoked).
    assert (await admin.put(member_url, headers=AUTH)).status_code == 204
    again = await rp.refresh(tokens["refresh_token"])
    assert again.status_code == 200, again.text
    assert (await rp.id_claims(again.json()["id_token"]))["groups"] == [group]


async def test_a_code_issued_before_removal_gets_no_tokens(admin_app, admin, person):
    browser, username = person
    group = unique("pilots")
    rp = await _restricted_app(admin_app, admin, group)
    member_url = f"/admin/groups/{group}/members/{username}"
    assert (await admin.put(member_url, headers=AUTH)).status_code == 204
    flow = await rp.authorize(browser, scope="openid groups")
    assert (await admin.delete(member_url, headers=AUTH)).status_code == 204
    refused = await rp.exchange(flow)
    assert (refused.status_code, refused.json()["error"]) == (400, "invalid_grant")
    assert "group" in refused.json()["error_description"]


async def test_an_app_opened_to_everyone_elsewhere_admits_at_once(admin_app, admin, person):
    """The token endpoint's cached client row (``service.db.clients.ClientCache``) still says
    the app admits only its group: a refusal taken on it is confirmed on the current row."""
    browser, username = person
    group = unique("crew")
    rp = await _restricted_app(admin_app, admin, group)
    member_url = f"/admin/groups/{group}/members/{username}"
    assert (await admin.put(member_url, headers=AUTH)).status_code == 204
    assert (
        await rp.exchange(await rp.authorize(browser, scope="openid groups"))
    ).status_code == 200
    flow = await rp.authorize(browser, scope="openid groups")
    assert (await admin.delete(member_url, headers=AUTH)).status_code == 204
    async with admin_app.state.ctx.db.session() as db:
        opened = update(OAuthClient).where(col(OAuthClient.client_id) == rp.client_id)
        await db.exec(opened.values(group_restricted=False))
        await db.commit()
    exchanged = await rp.exchange(flow)
    assert exchanged.status_code == 200, exchanged.text
    assert (await rp.id_claims(exchanged.json()["id_token"])).get("groups", []) == []


async def test_groups_claim_without_restriction(admin_app, admin, person):
    """An app open to all that asks for ``groups`` gets the person's groups, [] for none; an
    app that did not get the scope gets no claim."""
    browser, username = person
    rp = await RelyingParty.register(admin_app, scopes=["openid", "groups"])
    tokens = await rp.tokens(browser, scope="openid groups")
    assert (await rp.id_claims(tokens["id_token"]))["groups"] == []
    names = sorted([unique("b-team"), unique("a-team")], key=str.lower)
    for name in names:
        await admin.post("/admin/groups", json={"name": name}, headers=AUTH)
        await admin.put(f"/admin/groups/{name}/members/{username}", headers=AUTH)
    tokens = await rp.tokens(browser, scope="openid groups")
    assert (await rp.id_claims(tokens["id_token"]))["groups"] == names
    assert (await rp.userinfo(tokens["access_token"])).json()["groups"] == names
    plain = await RelyingParty.register(admin_app)
    assert "groups" not in await plain.id_claims((await plain.tokens(browser))["id_token"])


async def test_discovery_offers_the_groups_scope_and_claim(client):
    config = (await client.get("/.well-known/openid-configuration")).json()
    assert "groups" in config["scopes_supported"]
    assert "groups" in config["claims_supported"]


async def test_cli_groups(backend, app, client):
    _browser, _, username = await signed_up(client)
    name = unique("cli-group")
    assert (
        sesame(backend, "groups", "create", name, "--description", "From the CLI").returncode == 0
    )
    assert sesame(backend, "groups", "create", name.upper()).returncode == 2
    assert sesame(backend, "groups", "create", "bad name").returncode == 2
    added = sesame(backend, "groups", "add", name, username)
    assert added.returncode == 0 and "is now in" in added.stdout
    assert "was already" in sesame(backend, "groups", "add", name, username).stdout
    shown = sesame_json(backend, "groups", "show", name)
    assert shown["description"] == "From the CLI"
    assert [m["username"] for m in shown["members"]] == [username]
    created = sesame_json(
        backend,
        "clients",
        "create",
        "--name",
        "Gated",
        "--redirect-uri",
        "https://g.example/cb",
        "--allowed-group",
        name,
    )
    assert created["allowed_groups"] == [name]
    assert sesame(backend, "groups", "delete", name).returncode == 2
    updated = sesame_json(backend, "clients", "update", created["client_id"], "--no-allowed-groups")
    assert updated["allowed_groups"] == []
    assert sesame(backend, "groups", "remove", name, username).returncode == 0
    assert sesame(backend, "groups", "show", "no-such-group").returncode == 1
    assert sesame(backend, "groups", "delete", name).returncode == 0
    listed = sesame_json(backend, "groups", "list")
    assert name not in {g["name"] for g in listed}


async def test_roles_at_an_api_reach_its_access_tokens(admin_app, admin, person):
    """RFC 9068 2.2.3.1: a token for an API carries the person's roles there, from their
    groups; a token for Sesame itself carries none."""
    from joserfc import jwt

    from service.oidc import apis

    browser, username = person
    api, _ = await apis.create_api(
        admin_app.state.oidc, "Docs", f"https://docs-{secrets.token_hex(3)}.example", ["docs:read"]
    )
    rp = await RelyingParty.register(admin_app, api_access={api.audience: ["docs:read"]})
    group = unique("editors")
    await admin.post("/admin/groups", json={"name": group}, headers=AUTH)
    await admin.put(f"/admin/groups/{group}/members/{username}", headers=AUTH)
    role_url = f"/admin/apis/{api.api_id}/roles/editor/groups/{group}"
    assert (await admin.put(role_url, headers=AUTH)).status_code == 204
    assert (await admin.put(role_url, headers=AUTH)).status_code == 204  # idempotent
    shown = (await admin.get(f"/admin/apis/{api.api_id}", headers=AUTH)).json()
    assert shown["roles"] == {"editor": [group]}
    bad = await admin.put(f"/admin/apis/{api.api_id}/roles/bad role/groups/{group}", headers=AUTH)
    assert bad.status_code == 400
    missing = f"/admin/apis/{api.api_id}/roles/editor/groups/no-such-group"
    assert (await admin.put(missing, headers=AUTH)).status_code == 404

    async def access_claims(token: str) -> dict:
        return dict(jwt.decode(token, await rp.jwks(), algorithms=["RS256"]).claims)

    tokens = await rp.tokens(browser, resource=api.audience, scope="openid docs:read")
    assert (await access_claims(tokens["access_token"]))["roles"] == ["editor"]
    own = await rp.tokens(browser)
    assert "roles" not in await access_claims(own["access_token"])

    assert (
        await admin.delete(f"/admin/groups/{group}/members/{username}", headers=AUTH)
    ).status_code == 204
    refreshed = await rp.refresh(tokens["refresh_token"])
    assert refreshed.status_code == 200, refreshed.text
    assert (await access_claims(refreshed.json()["access_token"]))["roles"] == []
    assert (await admin.delete(role_url, headers=AUTH)).status_code == 204
    assert (await admin.delete(role_url, headers=AUTH)).status_code == 404


async def test_cli_roles(backend, app):
    from service.oidc import apis

    api, _ = await apis.create_api(
        app.state.oidc, "Wiki", f"https://wiki-{secrets.token_hex(3)}.example", ["wiki:read"]
    )
    group = unique("wiki-admins")
    assert sesame(backend, "groups", "create", group).returncode == 0
    granted = sesame(backend, "apis", "grant-role", api.api_id, "admin", "--group", group)
    assert granted.returncode == 0 and "now holds admin" in granted.stdout
    assert sesame_json(backend, "apis", "show", api.api_id)["roles"] == {"admin": [group]}
    assert (
        sesame(backend, "apis", "grant-role", api.api_id, "x y", "--group", group).returncode == 2
    )
    assert (
        sesame(backend, "apis", "grant-role", api.api_id, "admin", "--group", "nope").returncode
        == 1
    )
    revoked = sesame(backend, "apis", "revoke-role", api.api_id, "admin", "--group", group)
    assert revoked.returncode == 0 and "no longer holds" in revoked.stdout
    assert sesame_json(backend, "apis", "show", api.api_id)["roles"] == {}
