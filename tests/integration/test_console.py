"""The administration console (issue 15): who may see it, who may change something, and each
change through the pages' own forms, audited with the administrator as actor."""

from __future__ import annotations

import re
import secrets

import pytest
from sqlmodel import select

from service.auth import operators
from service.db.models import AuditEvent
from tests.conftest import asgi_client
from tests.factories import Browser, signed_up
from tests.rp import RelyingParty

PAGES = ("/console", "/console/users", "/console/groups", "/console/apps")


async def make_admin(app, username: str) -> None:
    ctx = app.state.ctx
    found = await operators.find_user(ctx, username)
    assert found is not None
    assert await operators.set_admin(ctx, found.user, True, actor="test")


@pytest.fixture
async def admin(app, client) -> tuple[Browser, str]:
    browser, _, username = await signed_up(client, name="Ada Admin")
    await make_admin(app, username)
    return browser, username


async def public_id(app, username: str) -> str:
    found = await operators.find_user(app.state.ctx, username)
    assert found is not None
    return str(found.user.public_id)


async def test_admin_is_redirected_from_admin_to_the_console(admin):
    browser, _ = admin
    moved = await browser.client.get("/admin")
    assert (moved.status_code, moved.headers["location"]) == (303, "/console")


async def test_nobody_else_reaches_a_console_page(app, client, other_client, admin):
    """Not signed in: the sign-in page, then back. Signed in without the role: 403 on every
    page and every change, even with the CSRF token."""
    _, admin_name = admin
    target = await public_id(app, admin_name)
    for path in (*PAGES, f"/console/users/{target}", "/console/groups/x"):
        anonymous = await other_client.get(path)
        assert anonymous.status_code == 303, path
        assert anonymous.headers["location"] == f"/signin?next={path}"
    person, _, _ = await signed_up(other_client)
    for path in (*PAGES, f"/console/users/{target}"):
        refused = await person.client.get(path)
        assert refused.status_code == 403, path
        assert "This page is for administrators." in refused.text
    for path in (
        f"/console/users/{target}/disable",
        f"/console/users/{target}/revoke-admin",
        "/console/groups",
    ):
        refused = await person.form(path, {"name": "takeover"})
        assert refused.status_code == 403, path
    found = await operators.find_user(app.state.ctx, admin_name)
    assert found is not None and found.user.disabled_at is None and found.user.admin_since


async def test_changes_need_the_csrf_token_and_a_recent_passkey(app, clock, admin):
    browser, _ = admin
    name = f"g-{secrets.token_hex(3)}"
    no_token = await browser.client.post("/console/groups", data={"name": name})
    assert no_token.status_code == 403
    clock.advance(app.state.ctx.settings.step_up_seconds + 1)
    page = await browser.client.get("/console/groups")
    assert page.status_code == 200 and 'id="step-up-console"' in page.text
    assert re.search(r'<button type="submit"[^>]*disabled>Create group', page.text)
    stale = await browser.form("/console/groups", {"name": name})
    assert stale.status_code == 403 and "confirm it is you" in stale.text
    assert (await browser.client.get(f"/console/groups/{name}")).status_code == 404


async def test_an_admin_runs_people_and_groups_from_the_console(app, client, other_client, admin):
    browser, admin_name = admin
    person, _, username = await signed_up(other_client, name="Bob Member")
    bob = await public_id(app, username)

    dashboard = await browser.client.get("/console")
    assert dashboard.status_code == 200 and 'id="stat-users"' in dashboard.text
    found = await browser.client.get("/console/users", params={"q": username.upper()})
    assert f'data-username="{username}"' in found.text
    assert f'data-username="{admin_name}"' not in found.text
    assert (
        "Nobody matches." in (await browser.client.get("/console/users", params={"q": "%_"})).text
    )

    group = f"team-{secrets.token_hex(3)}"
    created = await browser.form("/console/groups", {"name": group, "description": "The team"})
    assert (created.status_code, created.headers["location"]) == (
        303,
        f"/console/groups/{group}?done=group-created",
    )
    bad = await browser.form("/console/groups", {"name": "no spaces"})
    assert bad.status_code == 400 and "group name" in bad.text
    added = await browser.form(
        f"/console/groups/{group}/members", {"who": f"{username}@example.com"}
    )
    assert added.status_code == 303
    shown = await browser.client.get(f"/console/groups/{group}")
    assert f'data-username="{username}"' in shown.text
    rp = await RelyingParty.register(app, name=f"App {group}")
    saved = await browser.form(f"/console/apps/{rp.client_id}/groups", {"group": group})
    assert saved.status_code == 303
    apps = await browser.client.get("/console/apps")
    section = apps.text.split(f'data-client-id="{rp.client_id}"')[1].split("</section>")[0]
    assert f'value="{group}" checked' in section
    assert (await rp.tokens(person))["id_token"]  # a member gets in
    refused_delete = await browser.form(f"/console/groups/{group}/delete")
    assert refused_delete.status_code == 409 and rp.client_id in refused_delete.text

    user_page = await browser.client.get(f"/console/users/{bob}")
    assert "Bob Member" in user_page.text and f'href="/console/groups/{group}"' in user_page.text
    sessions = user_page.text.split('id="person-sessions"')[1].split("</ul>")[0]
    assert sessions.count("<li>") == 1 and "passkey" in sessions
    removed = await browser.form(f"/console/groups/{group}/members/{bob}/remove")
    assert removed.status_code == 303
    assert (await rp.start(person, rp.new_flow())).status_code == 403  # the app refuses him now

    assert (await browser.form(f"/console/users/{bob}/disable")).status_code == 303
    assert (await person.client.get("/account")).status_code == 303  # his session ended
    assert (await browser.form(f"/console/users/{bob}/enable")).status_code == 303
    assert (await browser.form(f"/console/users/{bob}/grant-admin")).status_code == 303
    assert (await browser.form(f"/console/users/{bob}/revoke-admin")).status_code == 303
    assert (await browser.form(f"/console/users/{bob}/delete")).status_code == 303
    assert (await browser.client.get(f"/console/users/{bob}")).status_code == 404

    async with app.state.ctx.db.session() as db:
        actors = (
            await db.exec(select(AuditEvent.kind).where(AuditEvent.actor == f"admin:{admin_name}"))
        ).all()
    for kind in ("group.created", "group.member_added", "group.member_removed", "client.updated",
                 "user.disabled", "user.enabled", "user.admin_granted", "user.admin_revoked",
                 "user.deleted"):  # fmt: skip
        assert kind in actors, kind


async def test_an_admin_cannot_lock_sesame_out(app, admin):
    """No removing one's own role, disabling or deleting oneself here, or the last admin."""
    browser, admin_name = admin
    me = await public_id(app, admin_name)
    for action in ("revoke-admin", "disable", "delete"):
        refused = await browser.form(f"/console/users/{me}/{action}")
        assert refused.status_code == 409, (action, refused.text)
    found = await operators.find_user(app.state.ctx, admin_name)
    assert found is not None and found.user.admin_since and not found.user.disabled_at


async def test_cli_makes_administrators(backend, app, client):
    from tests.integration.test_oidc_admin import sesame

    browser, _, username = await signed_up(client)
    assert (await browser.client.get("/console")).status_code == 403
    granted = sesame(backend, "users", "grant-admin", username)
    assert granted.returncode == 0 and "is now an administrator" in granted.stdout
    assert "was already" in sesame(backend, "users", "grant-admin", username).stdout
    listed = sesame(backend, "users", "list", "--admins", "--limit", "10000").stdout
    assert f'"username": "{username}"' in listed
    assert (await browser.client.get("/console")).status_code == 200
    assert sesame(backend, "users", "revoke-admin", username).returncode == 0
    assert (await browser.client.get("/console")).status_code == 403
    listed = sesame(backend, "users", "list", "--admins", "--limit", "10000").stdout
    assert f'"username": "{username}"' not in listed


async def test_audit_log_filters_and_csv(app, client, other_client, admin):
    browser, admin_name = admin
    _, _, username = await signed_up(other_client)
    page = await browser.client.get("/console/audit", params={"user": username})
    assert page.status_code == 200 and 'data-kind="signup"' in page.text
    assert 'data-kind="signin.passkey"' not in page.text  # only this person's events
    only = await browser.client.get("/console/audit", params={"kind": "signup", "user": username})
    assert only.text.count('data-kind="signup"') == 1
    assert (
        'id="filter-problem"'
        in (await browser.client.get("/console/audit", params={"since": "not-a-day"})).text
    )
    assert (
        'id="filter-problem"'
        in (await browser.client.get("/console/audit", params={"user": "nobody-here"})).text
    )
    exported = await browser.client.get("/console/audit.csv", params={"user": admin_name})
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert exported.headers["content-disposition"].startswith("attachment;")
    lines = exported.text.splitlines()
    assert lines[0] == "at,kind,description,user,actor,ip,user_agent,detail"
    assert any(",signup," in line for line in lines[1:])
    assert (await other_client.get("/console/audit.csv")).status_code == 403


def test_csv_cells_never_start_a_formula():
    from service.http.console.audit_log import _cell

    assert _cell("=SUM(A1)") == "'=SUM(A1)" and _cell("+1") == "'+1" and _cell("@x") == "'@x"
    assert _cell("plain") == "plain" and _cell(None) == ""


async def test_apps_registered_changed_and_deleted_from_the_console(app, admin):
    browser, _ = admin
    made = await browser.form(
        "/console/apps",
        {
            "name": "Console app",
            "type": "confidential",
            "redirect_uris": "https://console-app.example/cb",
            "scope": "email",
        },
    )
    assert made.status_code == 200, made.text
    client_id = re.search(r'id="client-id">([^<]+)<', made.text).group(1)
    secret = re.search(r'id="client-secret">([^<]+)<', made.text).group(1)
    rp = RelyingParty(app, client_id, secret, "https://console-app.example/cb")
    assert (await rp.token({"grant_type": "client_credentials"})).json()["error"] in (
        "unauthorized_client",
        "invalid_grant",
    )  # the secret works: the refusal is about the grant, not the client
    shown = await browser.client.get(f"/console/apps/{client_id}")
    assert "openid email" in shown.text
    bad = await browser.form(
        f"/console/apps/{client_id}/uris", {"redirect_uris": "http://evil.example/cb"}
    )
    assert bad.status_code == 400 and "only on a loopback host" in bad.text
    saved = await browser.form(
        f"/console/apps/{client_id}/uris",
        {"redirect_uris": "https://console-app.example/cb https://console-app.example/2"},
    )
    assert saved.status_code == 303
    assert (
        "https://console-app.example/2"
        in (await browser.client.get(f"/console/apps/{client_id}")).text
    )
    rotated = await browser.form(f"/console/apps/{client_id}/rotate-secret")
    new_secret = re.search(r'id="client-secret">([^<]+)<', rotated.text).group(1)
    assert new_secret != secret
    assert (await rp.token({"grant_type": "client_credentials"})).json()[
        "error"
    ] == "invalid_client"
    refused = await browser.form(
        "/console/apps", {"name": "x", "redirect_uris": "javascript:alert(1)"}
    )
    assert refused.status_code == 400
    assert (await browser.form(f"/console/apps/{client_id}/delete")).status_code == 303
    assert (await browser.client.get(f"/console/apps/{client_id}")).status_code == 404


async def test_rotate_keys_and_remove_a_lost_passkey(app, other_client, admin):
    browser, admin_name = admin
    before = {k["kid"] for k in (await browser.client.get("/jwks.json")).json()["keys"]}
    rotated = await browser.form("/console/keys/rotate")
    assert (rotated.status_code, rotated.headers["location"]) == (303, "/console?done=keys-rotated")
    after = {k["kid"] for k in (await browser.client.get("/jwks.json")).json()["keys"]}
    assert after > before  # new keys published beside the old ones

    person, auth, username = await signed_up(other_client)
    bob = await public_id(app, username)
    page = await browser.client.get(f"/console/users/{bob}")
    pk = re.search(r'data-passkey-id="(\d+)"', page.text).group(1)
    removed = await browser.form(f"/console/users/{bob}/passkeys/{pk}/remove")
    assert removed.status_code == 303
    assert (await browser.form(f"/console/users/{bob}/passkeys/{pk}/remove")).status_code == 404
    assert "data-passkey-id" not in (await browser.client.get(f"/console/users/{bob}")).text
    await person.form("/signout")
    assert (await person.signin(auth)).status_code == 400  # the lost passkey no longer works
    async with app.state.ctx.db.session() as db:
        kinds = (
            await db.exec(select(AuditEvent.kind).where(AuditEvent.actor == f"admin:{admin_name}"))
        ).all()
    assert "passkey.removed" in kinds and "keys.rotated" in kinds


def console_routes() -> list[tuple[str, str]]:
    """Every console route (method, path with its parameters filled in), the setup link's
    excepted (it is for whoever holds the link, before any administrator exists)."""
    from starlette.routing import Route

    from service.http import console

    found = []
    parts = [getattr(console, name) for name in dir(console)]
    routes = [r for part in parts if hasattr(part, "router") for r in part.router.routes]
    for route in routes:
        if not isinstance(route, Route) or not route.path.startswith("/console"):
            continue
        if route.path.startswith("/console/setup"):
            continue
        path = re.sub(r"\{public_id\}", "00000000-0000-4000-8000-000000000000", route.path)
        path = re.sub(r"\{credential_pk\}", "1", path)
        path = re.sub(r"\{[a-z_]+\}", "x", path)
        for method in route.methods or ():
            if method != "HEAD":
                found.append((method, path))
    return found


async def test_every_console_route_refuses_anyone_but_an_administrator(app, other_client, admin):
    routes = console_routes()
    assert len(routes) >= 24, routes  # as many as the console has today, at least
    async with asgi_client(app) as anonymous_client:
        anonymous = Browser(anonymous_client)
        for method, path in routes:
            answer = await (anonymous.client.get(path) if method == "GET" else anonymous.form(path))
            assert answer.status_code == 303, (method, path, answer.status_code)
            assert answer.headers["location"].startswith("/signin?next=")
    person, _, _ = await signed_up(other_client)
    for method, path in routes:
        answer = await (person.client.get(path) if method == "GET" else person.form(path))
        assert answer.status_code == 403, (method, path, answer.status_code)
        assert answer.headers["cache-control"] == "no-store"
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]


async def test_apis_and_their_roles_from_the_console(app, admin):
    browser, _ = admin
    audience = f"https://console-api-{secrets.token_hex(3)}.example"
    made = await browser.form(
        "/console/apis",
        {"name": "Ledger", "audience": audience, "scopes": "ledger:read ledger:write"},
    )
    assert made.status_code == 200, made.text
    api_id = re.search(r'id="shown-id">([^<]+)<', made.text).group(1)
    assert re.search(r'id="shown-secret">[^<]{20,}<', made.text)
    bad = await browser.form("/console/apis", {"name": "x", "audience": "ftp://x", "scopes": "a"})
    assert bad.status_code == 400
    group = f"ledger-{secrets.token_hex(3)}"
    await browser.form("/console/groups", {"name": group})
    given = await browser.form(
        f"/console/apis/{api_id}/roles", {"role": "auditor", "group": group, "held": "yes"}
    )
    assert given.status_code == 303
    page = await browser.client.get("/console/apis")
    section = page.text.split(f'data-api-id="{api_id}"')[1].split("</section>")[0]
    assert f"auditor · {group}" in section
    taken = await browser.form(f"/console/apis/{api_id}/roles", {"role": "auditor", "group": group})
    assert taken.status_code == 303
    page = await browser.client.get("/console/apis")
    assert f"auditor · {group}" not in page.text.split(f'data-api-id="{api_id}"')[1]
    assert (await browser.form(f"/console/apis/{api_id}/delete")).status_code == 303
    assert f'data-api-id="{api_id}"' not in (await browser.client.get("/console/apis")).text


async def test_passkey_api_tenants_and_keys_from_the_console(app, admin):
    browser, _ = admin
    made = await browser.form(
        "/console/tenants",
        {"name": "Shop", "rp_id": "shop.example", "origins": "https://shop.example"},
    )
    assert made.status_code == 200, made.text
    tenant_id = re.search(r'id="shown-id">([^<]+)<', made.text).group(1)
    first = re.search(r'id="shown-secret">(sk_[^<]+)<', made.text).group(1)
    listing = "/api/passkeys/v1/users/u1/credentials"
    async with asgi_client(app) as shop:
        auth = {"Authorization": f"Bearer {first}"}
        assert (await shop.get(listing, headers=auth)).status_code == 200
        added = await browser.form(f"/console/tenants/{tenant_id}/keys")
        second = re.search(r'id="shown-secret">(sk_[^<]+)<', added.text).group(1)
        lookup = first.split("_")[1]
        assert (
            await browser.form(f"/console/tenants/{tenant_id}/keys/{lookup}/revoke")
        ).status_code == 303
        assert (await shop.get(listing, headers=auth)).status_code == 401
        other = {"Authorization": f"Bearer {second}"}
        assert (await shop.get(listing, headers=other)).status_code == 200
    bad = await browser.form(
        "/console/tenants", {"name": "x", "rp_id": "a.example", "origins": "https://b.example"}
    )
    assert bad.status_code == 400
    assert (await browser.form(f"/console/tenants/{tenant_id}/delete")).status_code == 303
    assert (
        f'data-tenant-id="{tenant_id}"' not in (await browser.client.get("/console/tenants")).text
    )


async def test_a_high_assurance_app_registered_from_the_console(app, admin, jwks_server):
    """The console's third kind of app: FAPI 2.0, given the URL of its keys. It gets no secret,
    proves itself with a key published there (Sesame fetches it), and is held to the profile."""
    browser, _ = admin
    missing = await browser.form(
        "/console/apps",
        {"name": "Bank", "type": "fapi2", "redirect_uris": "https://bank.example/cb"},
    )
    assert missing.status_code == 400 and "private_key_jwt needs" in missing.text
    made = await browser.form(
        "/console/apps",
        {
            "name": "Bank",
            "type": "fapi2",
            "redirect_uris": "https://bank.example/cb",
            "jwks_uri": jwks_server.url,
        },
    )
    assert made.status_code == 200, made.text
    assert 'id="client-secret"' not in made.text
    assert jwks_server.url in re.search(r'id="keys-note">([^<]+)<', made.text).group(1)
    client_id = re.search(r'id="client-id">([^<]+)<', made.text).group(1)
    shown = (await browser.client.get(f"/console/apps/{client_id}")).text
    assert "confidential · private_key_jwt · fapi2" in shown and jwks_server.url in shown
    rp = RelyingParty(app, client_id, "guessed", "https://bank.example/cb")
    grant = {"grant_type": "client_credentials"}
    assert (await rp.token(grant)).json()["error"] == "invalid_client"  # no secret to use
    issuer = app.state.oidc.settings.issuer
    signed = {**grant, **jwks_server.holder.assertion_form(client_id, issuer)}
    async with rp.back_channel() as c:
        answer = (await c.post("/token", data=signed)).json()
    # The key at its jwks_uri authenticated it: the refusal is about the grant, not the client.
    assert answer["error"] == "unauthorized_client", answer
    assert jwks_server.fetches == 1
