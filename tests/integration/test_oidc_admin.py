"""Managing clients: the ``sesame clients`` / ``sesame keys`` commands and the admin API."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys

import pytest

from tests.conftest import asgi_client
from tests.factories import signed_up
from tests.rp import RelyingParty

ADMIN = "admin-token-" + "y" * 32


def sesame(
    backend, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **backend.env(), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "service.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def sesame_json(backend, *args: str):
    done = sesame(backend, *args)
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return json.loads(done.stdout)


async def test_cli_client_lifecycle(backend, app, client):
    created = sesame(
        backend,
        "clients",
        "create",
        "--name",
        "CLI app",
        "--redirect-uri",
        "https://cli.example/cb",
        "--first-party",
    )
    assert created.returncode == 0, created.stderr
    info = json.loads(created.stdout)
    assert info["client_secret"] and "shown only now" in created.stderr
    client_id = info["client_id"]
    listed = sesame_json(backend, "clients", "list")
    assert client_id in {c["client_id"] for c in listed}
    assert all("client_secret" not in c and "secret_hash" not in c for c in listed)
    shown = sesame_json(backend, "clients", "show", client_id)
    assert shown["redirect_uris"] == ["https://cli.example/cb"]

    # The printed secret works at the token endpoint, and stops working once rotated.
    browser, _, _ = await signed_up(client)
    rp = RelyingParty(app, client_id, info["client_secret"], "https://cli.example/cb")
    assert (await rp.exchange(await rp.authorize(browser))).status_code == 200
    rotated = sesame_json(backend, "clients", "rotate-secret", client_id)
    flow = await rp.authorize(browser)
    assert (await rp.exchange(flow)).status_code == 401
    rp.secret = rotated["client_secret"]
    assert (await rp.exchange(flow)).status_code == 200

    pending = await rp.authorize(browser)
    assert sesame(backend, "clients", "delete", client_id).returncode == 0
    assert sesame(backend, "clients", "show", client_id).returncode == 1
    assert (await rp.exchange(pending)).status_code == 401
    assert (await rp.start(browser, rp.new_flow())).status_code == 400


def test_cli_refuses_bad_registrations(backend):
    bad = sesame(
        backend, "clients", "create", "--name", "x", "--redirect-uri", "http://evil.example/cb"
    )
    assert bad.returncode == 2
    assert "loopback" in bad.stderr
    public_cc = sesame(
        backend, "clients", "create", "--name", "x", "--type", "public", "--grant",
        "client_credentials",
    )  # fmt: skip
    assert public_cc.returncode == 2


def test_cli_registers_a_native_app(backend):
    """RFC 8252 7.1: a public client may use a private-use scheme; a confidential one may not."""
    native = "com.example.app:/oauth2redirect"
    created = sesame_json(
        backend, "clients", "create", "--name", "Mobile", "--type", "public",
        "--redirect-uri", native,
    )  # fmt: skip
    assert created["redirect_uris"] == [native]
    assert created["client_secret"] is None
    assert created["token_endpoint_auth_method"] == "none"
    refused = sesame(backend, "clients", "create", "--name", "M", "--redirect-uri", native)
    assert refused.returncode == 2 and "public (native) clients only" in refused.stderr


def test_cli_registers_an_api_and_a_client_allowed_its_scopes(backend):
    audience = f"https://orders-{os.getpid()}-{len(ADMIN)}.example.com/v1"
    api = sesame_json(
        backend, "apis", "create", "--name", "Orders", "--audience", audience,
        "--scope", "orders:read", "--scope", "orders:write",
    )  # fmt: skip
    assert api["audience"] == audience and api["scopes"] == ["orders:read", "orders:write"]
    assert api["secret"] and api["api_id"].startswith("api_")
    assert any(row["api_id"] == api["api_id"] for row in sesame_json(backend, "apis", "list"))
    client = sesame_json(
        backend, "clients", "create", "--name", "Shop", "--grant", "client_credentials",
        "--api-scope", audience, "orders:read",
    )  # fmt: skip
    assert client["api_access"] == {audience: ["orders:read"]}
    refused = sesame(
        backend, "clients", "create", "--name", "Shop", "--grant", "client_credentials",
        "--api-scope", audience, "orders:delete",
    )  # fmt: skip
    assert refused.returncode == 2 and "API access" in refused.stderr
    later = sesame_json(backend, "clients", "create", "--name", "Later", "--type", "public",
                        "--redirect-uri", "https://later.example/cb")  # fmt: skip
    assert later["api_access"] == {} and later["allowed_origins"] == ["https://later.example"]
    updated = sesame_json(
        backend, "clients", "update", later["client_id"], "--api-scope", audience, "orders:write",
        "--no-allowed-origins", "--backchannel-logout-uri", "https://later.example/logout",
    )  # fmt: skip
    assert updated["api_access"] == {audience: ["orders:write"]}
    assert updated["allowed_origins"] == []
    assert updated["backchannel_logout_uri"] == "https://later.example/logout"
    assert sesame(backend, "clients", "update", "nobody").returncode == 1
    assert sesame(backend, "apis", "delete", api["api_id"]).returncode == 0
    assert sesame(backend, "apis", "show", api["api_id"]).returncode == 1


def test_cli_keys_rotate_publishes_new_keys(backend):
    before = {k["kid"] for k in sesame_json(backend, "keys", "list")["keys"]}
    rotated = sesame(backend, "keys", "rotate", "--now")
    assert rotated.returncode == 0, rotated.stderr
    after = {k["kid"] for k in sesame_json(backend, "keys", "list")["keys"]}
    assert before < after
    assert len(after - before) == 3


async def test_admin_api_absent_without_a_token(client):
    assert (await client.get("/admin/clients")).status_code == 404


@pytest.fixture
async def admin(make_app):
    async with asgi_client(make_app(admin_token=ADMIN)) as c:
        yield c


async def test_admin_api_needs_the_token(admin):
    assert (await admin.get("/admin/clients")).status_code == 401
    wrong = await admin.get("/admin/clients", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401


async def test_admin_api_client_lifecycle(admin):
    auth = {"Authorization": f"Bearer {ADMIN}"}
    created = await admin.post(
        "/admin/clients",
        json={"name": "API app", "redirect_uris": ["https://api.example/cb"]},
        headers=auth,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["client_secret"]
    assert body["token_endpoint_auth_method"] == "client_secret_basic"
    cid = body["client_id"]
    shown = await admin.get(f"/admin/clients/{cid}", headers=auth)
    assert shown.json()["client_secret"] is None
    rotated = await admin.post(f"/admin/clients/{cid}/rotate-secret", headers=auth)
    assert rotated.json()["client_secret"] != body["client_secret"]
    listed = await admin.get("/admin/clients", headers=auth)
    assert cid in {c["client_id"] for c in listed.json()}
    assert (await admin.delete(f"/admin/clients/{cid}", headers=auth)).status_code == 204
    assert (await admin.get(f"/admin/clients/{cid}", headers=auth)).status_code == 404
    bad = await admin.post(
        "/admin/clients",
        json={"name": "x", "redirect_uris": ["https://good@evil.example/cb"]},
        headers=auth,
    )
    assert bad.status_code == 400
    assert "userinfo" in bad.json()["message"]


async def test_admin_api_refusals_carry_their_own_status_and_code(admin):
    """One error mapping: each refusal answers with its own status and stable code, the public
    message in the body."""
    auth = {"Authorization": f"Bearer {ADMIN}"}
    spec = {"name": "Mine", "redirect_uris": ["https://api.example/cb"], "client_id": "mine"}
    assert (await admin.post("/admin/clients", json=spec, headers=auth)).status_code == 201
    taken = await admin.post("/admin/clients", json=spec, headers=auth)
    assert taken.status_code == 409
    assert taken.json()["error"] == "client_id_taken" and "mine" in taken.json()["message"]
    public = {**spec, "client_id": "spa", "type": "public"}
    assert (await admin.post("/admin/clients", json=public, headers=auth)).status_code == 201
    rotate = await admin.post("/admin/clients/spa/rotate-secret", headers=auth)
    assert rotate.status_code == 409 and rotate.json()["error"] == "public_client"
    rule = {**spec, "client_id": "cc", "type": "public", "grant_types": ["client_credentials"]}
    broken = await admin.post("/admin/clients", json=rule, headers=auth)
    assert broken.status_code == 400
    assert broken.json()["error"] == "invalid_client_metadata"
    assert broken.json()["message"] == "client_credentials is for confidential clients only"
    missing = await admin.post("/admin/clients/nobody/rotate-secret", headers=auth)
    assert missing.status_code == 404


async def test_admin_api_is_in_the_openapi_schema(client):
    schema = (await client.get("/openapi.json")).json()
    assert "/admin/clients" in schema["paths"]
    assert "/admin/clients/{client_id}/rotate-secret" in schema["paths"]
    assert "/token" in schema["paths"]
    assert "/signin" not in schema["paths"]


async def test_generated_client_ids_are_safe_on_a_command_line(app):
    """A random id starting with "-" would read as an option to `sesame clients show`."""
    from service.oidc.clients import ClientSpec, create_client

    for _ in range(20):
        row, _secret = await create_client(
            app.state.oidc, ClientSpec(name="x", redirect_uris=["https://x.example/cb"])
        )
        assert re.fullmatch(r"[0-9a-f]{24}", row.client_id), row.client_id


async def test_wrong_admin_tokens_are_budgeted_per_address(make_app):
    """RFC 9700 4.16-style guessing of the operator's token: two wrong tokens a minute from one
    address, then 429 before any token is compared, even the right one; another address
    keeps its own budget."""
    app = make_app(
        admin_token=ADMIN,
        admin_failures_per_ip=2,
        trusted_proxies=["127.0.0.1"],
        redis_prefix=f"sesame-test-{secrets.token_hex(4)}:",
    )
    here = {"X-Forwarded-For": "203.0.113.5"}
    async with asgi_client(app) as c:
        wrong = [
            (await c.get("/admin/clients", headers={**here, "Authorization": f"Bearer x{i}"}))
            for i in range(3)
        ]
        right_but_late = await c.get(
            "/admin/clients", headers={**here, "Authorization": f"Bearer {ADMIN}"}
        )
        elsewhere = await c.get(
            "/admin/clients",
            headers={"X-Forwarded-For": "198.51.100.5", "Authorization": f"Bearer {ADMIN}"},
        )
    assert [r.status_code for r in wrong] == [401, 401, 429]
    assert wrong[2].json()["error"] == "rate_limited"
    assert 1 <= int(wrong[2].headers["retry-after"]) <= 30
    assert right_but_late.status_code == 429
    assert elsewhere.status_code == 200
