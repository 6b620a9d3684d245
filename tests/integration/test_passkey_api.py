"""The passkey API for apps with their own login: register, log in (JWT checked against JWKS
with joserfc), list, rename, delete; tenant isolation; API keys; bad input. Both backends."""

from __future__ import annotations

import json
import secrets

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jwt
from joserfc.jwk import KeySet

from service import passkey_api
from tests.conftest import asgi_client
from tests.integration.test_oidc_admin import sesame
from tests.integration.test_signin import assert_same_shape
from tests.softauthn import SoftAuthenticator

API = "/api/passkeys/v1"


class App:
    """A tenant's backend calling the API with its key."""

    def __init__(self, client, tenant, key: str, origin: str) -> None:
        self.client, self.tenant, self.key, self.origin = client, tenant, key, origin

    async def call(self, method: str, path: str, body=None, key: str | None = None):
        headers = {"Authorization": f"Bearer {key if key is not None else self.key}"}
        return await self.client.request(method, f"{API}{path}", json=body, headers=headers)

    async def register(self, auth: SoftAuthenticator, user_id: str = "user-1", **create):
        begun = await self.call(
            "POST", "/registration/initialize", {"user_id": user_id, "username": f"{user_id}@app"}
        )
        assert begun.status_code == 200, begun.text
        data = begun.json()
        return await self.call(
            "POST",
            "/registration/finalize",
            {"ceremony": data["ceremony"], "credential": auth.create(data["publicKey"], **create)},
        )

    async def login(self, auth: SoftAuthenticator, user_id: str | None = None, **get):
        begun = await self.call("POST", "/login/initialize", {"user_id": user_id})
        data = begun.json()
        return await self.call(
            "POST",
            "/login/finalize",
            {"ceremony": data["ceremony"], "credential": auth.get(data["publicKey"], **get)},
        )


async def make_tenant(app, client, name: str) -> App:
    origin = f"https://{name}.example"
    tenant, key = await passkey_api.create_tenant(app.state.ctx, name, f"{name}.example", [origin])
    return App(client, tenant, key, origin)


@pytest.fixture
async def apps(app, client):
    return await make_tenant(app, client, "shop"), await make_tenant(app, client, "forum")


async def test_register_login_and_verify_the_jwt(apps, client):
    shop, _ = apps
    auth = SoftAuthenticator(origin=shop.origin)
    registered = await shop.register(auth, "user-42")
    assert registered.status_code == 200, registered.text
    assert registered.json()["user_id"] == "user-42"
    for user_id in ("user-42", None):  # username-first and discoverable
        done = await shop.login(auth, user_id)
        assert done.status_code == 200, done.text
        token = done.json()["token"]
        keys = KeySet.import_key_set((await client.get("/jwks.json")).json())
        claims = jwt.decode(token, keys, algorithms=["RS256"]).claims
        assert claims["sub"] == "user-42"
        assert claims["aud"] == shop.tenant.tenant_id
        assert claims["amr"] == ["passkey"]
        assert claims["cred_id"] == registered.json()["id"]
        assert claims["exp"] - claims["iat"] == 300


async def test_list_rename_delete(apps):
    shop, _ = apps
    auth = SoftAuthenticator(origin=shop.origin)
    first = (await shop.register(auth, "u1")).json()
    await shop.register(SoftAuthenticator(origin=shop.origin), "u1")
    listed = (await shop.call("GET", "/users/u1/credentials")).json()
    assert next(c["id"] for c in listed) == first["id"] and len(listed) == 2
    renamed = await shop.call("PATCH", f"/credentials/{first['id']}", {"name": "Laptop"})
    assert renamed.json()["name"] == "Laptop"
    assert (await shop.call("DELETE", f"/credentials/{first['id']}")).status_code == 204
    assert len((await shop.call("GET", "/users/u1/credentials")).json()) == 1
    assert (await shop.login(auth, "u1")).status_code == 400  # its passkey is gone
    deleted = await shop.call("DELETE", "/users/u1/credentials")
    assert deleted.json() == {"deleted": 1}
    assert (await shop.call("DELETE", f"/credentials/{first['id']}")).status_code == 404


async def test_tenants_cannot_see_or_use_each_others_users(apps):
    shop, forum = apps
    auth = SoftAuthenticator(origin=shop.origin)
    cred = (await shop.register(auth, "shared-name")).json()
    # Forum's key reads nothing, renames nothing and deletes nothing of Shop's.
    assert (await forum.call("GET", "/users/shared-name/credentials")).json() == []
    assert (
        await forum.call("PATCH", f"/credentials/{cred['id']}", {"name": "x"})
    ).status_code == 404
    assert (await forum.call("DELETE", f"/credentials/{cred['id']}")).status_code == 404
    assert (await forum.call("DELETE", "/users/shared-name/credentials")).json() == {"deleted": 0}
    # Shop's passkey answering Forum's challenge (Forum's RP ID) is refused.
    assert (
        await forum.login(auth, None, rp_id="forum.example", origin=forum.origin)
    ).status_code == 400
    # A Shop ceremony cannot be finished with Forum's key.
    begun = (await shop.call("POST", "/login/initialize", {})).json()
    stolen = await forum.call(
        "POST",
        "/login/finalize",
        {"ceremony": begun["ceremony"], "credential": auth.get(begun["publicKey"])},
    )
    assert stolen.status_code == 400
    assert stolen.json()["error"] == "ceremony_expired"
    assert len((await shop.call("GET", "/users/shared-name/credentials")).json()) == 1


async def test_api_keys_missing_wrong_revoked_and_rotated(app, apps):
    shop, _ = apps
    for key in ("", "sk_nope", "sk_0123456789abcdef_wrong", shop.key + "x"):
        response = await shop.call("GET", "/users/u/credentials", key=key)
        assert response.status_code == 401, key
        assert response.json()["error"] == "unauthorized"
    second = await passkey_api.new_api_key(app.state.ctx, shop.tenant, "rotation")
    assert (await shop.call("GET", "/users/u/credentials", key=second)).status_code == 200
    lookup = shop.key[3:19]
    assert await passkey_api.revoke_api_key(app.state.ctx, shop.tenant, lookup)
    assert (await shop.call("GET", "/users/u/credentials")).status_code == 401
    assert (await shop.call("GET", "/users/u/credentials", key=second)).status_code == 200
    refused = await shop.call("POST", "/registration/initialize", {"user_id": "u", "username": "u"})
    assert refused.status_code == 401


async def test_bad_input_replay_and_ceremony_mixups(apps):
    shop, _ = apps
    auth = SoftAuthenticator(origin=shop.origin)
    malformed = await shop.call("POST", "/registration/finalize", {"ceremony": "x"})
    assert malformed.status_code == 400 and malformed.json()["error"] == "invalid_request"
    begun = (
        await shop.call("POST", "/registration/initialize", {"user_id": "u9", "username": "u9"})
    ).json()
    garbage = await shop.call(
        "POST",
        "/registration/finalize",
        {"ceremony": begun["ceremony"], "credential": {"id": "!!"}},
    )
    assert garbage.status_code == 400
    # A registration ceremony cannot be used to log in, and a login cannot be replayed.
    await shop.register(auth, "u9")
    reg = (
        await shop.call("POST", "/registration/initialize", {"user_id": "u9", "username": "u9"})
    ).json()
    mixed = await shop.call(
        "POST",
        "/login/finalize",
        {
            "ceremony": reg["ceremony"],
            "credential": auth.get(reg["publicKey"] | {"allowCredentials": []}),
        },
    )
    assert mixed.status_code == 400
    login = (await shop.call("POST", "/login/initialize", {"user_id": "u9"})).json()
    answer = auth.get(login["publicKey"])
    first = await shop.call(
        "POST", "/login/finalize", {"ceremony": login["ceremony"], "credential": answer}
    )
    assert first.status_code == 200
    again = await shop.call(
        "POST", "/login/finalize", {"ceremony": login["ceremony"], "credential": answer}
    )
    assert again.status_code == 400
    wrong_origin = await shop.login(auth, "u9", origin="https://evil.example")
    assert wrong_origin.status_code == 400
    # The right credential, signed for another RP ID (rpIdHash), is refused as well.
    other_rp = await shop.login(auth, "u9", rp_id="forum.example")
    assert other_rp.status_code == 400
    assert other_rp.json()["error"] == "invalid_response"
    assert (await shop.login(auth, "u9")).status_code == 200


async def test_public_key_must_match_its_algorithm(apps):
    shop, _ = apps
    auth = SoftAuthenticator(origin=shop.origin)
    refused = await shop.register(auth, "p384", curve=ec.SECP384R1(), cose_alg=-7)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_response"
    refused = await shop.register(auth, "not-a-boolean", cross_origin="true")
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_response"
    for user_id in ("p384", "not-a-boolean"):
        listed = await shop.call("GET", f"/users/{user_id}/credentials")
        assert listed.status_code == 200 and listed.json() == []


async def test_unknown_user_gets_same_shaped_options(apps):
    shop, _ = apps
    await shop.register(SoftAuthenticator(origin=shop.origin), "known")
    known = (await shop.call("POST", "/login/initialize", {"user_id": "known"})).json()
    unknown = (await shop.call("POST", "/login/initialize", {"user_id": "ghost"})).json()
    assert_same_shape(
        known["publicKey"]["allowCredentials"], unknown["publicKey"]["allowCredentials"]
    )
    again = (await shop.call("POST", "/login/initialize", {"user_id": "ghost"})).json()
    assert again["publicKey"]["allowCredentials"] == unknown["publicKey"]["allowCredentials"]
    other = (await shop.call("POST", "/login/initialize", {"user_id": "ghost2"})).json()
    assert other["publicKey"]["allowCredentials"] != unknown["publicKey"]["allowCredentials"]


def test_tenants_cli(backend):
    created = sesame(
        backend, "tenants", "create", "--name", "CLI shop", "--rp-id", "cli.example",
        "--origin", "https://cli.example",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    info = json.loads(created.stdout)
    assert info["api_key"].startswith("sk_") and "shown only now" in created.stderr
    assert sesame(
        backend, "tenants", "create", "--name", "x", "--rp-id", "a.example", "--origin",
        "https://b.example",
    ).returncode == 2  # fmt: skip
    added = json.loads(sesame(backend, "tenants", "add-key", info["tenant_id"]).stdout)
    assert sesame(backend, "tenants", "delete", info["tenant_id"]).returncode == 2
    lookup = info["api_key"][3:19]
    assert sesame(backend, "tenants", "revoke-key", info["tenant_id"], lookup).returncode == 0
    assert added["api_key"] != info["api_key"]
    assert sesame(backend, "tenants", "delete", info["tenant_id"], "--yes").returncode == 0
    assert info["tenant_id"] not in sesame(backend, "tenants", "list").stdout


async def test_openapi_documents_the_passkey_api(client):
    schema = (await client.get("/openapi.json")).json()
    assert f"{API}/registration/initialize" in schema["paths"]
    assert f"{API}/login/finalize" in schema["paths"]


async def test_rate_limits_per_api_key_and_per_tenant(make_app, backend):
    app = make_app(
        api_rate_per_key=3,
        api_rate_per_tenant=5,
        redis_prefix=f"{backend.redis_prefix}{secrets.token_hex(4)}:",
    )
    async with asgi_client(app) as c:
        shop = await make_tenant(app, c, "limited")
        for _ in range(3):
            assert (await shop.call("GET", "/users/u/credentials")).status_code == 200
        limited = await shop.call("GET", "/users/u/credentials")
        assert limited.status_code == 429
        assert limited.json()["error"] == "rate_limited"
        assert 0 < int(limited.headers["retry-after"]) <= 60
        second = await passkey_api.new_api_key(app.state.ctx, shop.tenant, "second")
        # A fresh key has its own budget, but the tenant's (5, of which 3 are spent) runs out.
        statuses = [
            (await shop.call("GET", "/users/u/credentials", key=second)).status_code
            for _ in range(3)
        ]
        assert statuses == [200, 200, 429]


async def test_docs_page_lists_the_api_with_examples(client):
    docs = await client.get("/docs")
    assert docs.status_code == 200
    text = docs.text
    assert f"POST {API}/registration/initialize" in text
    assert "&#34;user-42&#34;" in text or '"user-42"' in text  # the example from the schema
    assert "<script" not in text.split("</head>", 1)[1]  # no inline script, no CDN
    assert "cdn" not in text.lower()


async def test_admin_api_manages_tenants_and_keys(make_app):
    token = "admin-" + "t" * 40
    app = make_app(admin_token=token)
    async with asgi_client(app) as c:
        c.headers["Authorization"] = f"Bearer {token}"
        created = await c.post(
            "/admin/tenants",
            json={"name": "API shop", "rp_id": "api.example", "origins": ["https://api.example"]},
        )
        assert created.status_code == 201, created.text
        tenant_id, key = created.json()["tenant_id"], created.json()["api_key"]
        assert tenant_id in {t["tenant_id"] for t in (await c.get("/admin/tenants")).json()}
        bad = await c.post(
            "/admin/tenants",
            json={"name": "x", "rp_id": "a.example", "origins": ["http://a.example"]},
        )
        assert bad.status_code == 400 and bad.json()["error"] == "invalid_tenant"
        second = (await c.post(f"/admin/tenants/{tenant_id}/keys")).json()["api_key"]
        assert (await c.delete(f"/admin/tenants/{tenant_id}/keys/{key[3:19]}")).status_code == 204
        shop = App(c, None, key, "https://api.example")
        assert (await shop.call("GET", "/users/u/credentials")).status_code == 401
        assert (await shop.call("GET", "/users/u/credentials", key=second)).status_code == 200
        # Registered passkeys and keys go with the tenant.
        auth = SoftAuthenticator(origin=shop.origin)
        shop.key = second
        assert (await shop.register(auth, "gone")).status_code == 200
        assert (await c.delete(f"/admin/tenants/{tenant_id}")).status_code == 204
        assert (await shop.call("GET", "/users/gone/credentials")).status_code == 401
        assert (await c.delete(f"/admin/tenants/{tenant_id}")).status_code == 404
        trail = (await c.get("/admin/events", params={"limit": 1000})).json()
        mine = [e["kind"] for e in trail if tenant_id in e["detail"]]
        for kind in ("tenant.created", "tenant.key_added", "tenant.key_revoked", "tenant.deleted"):
            assert kind in mine, kind
        assert all(e["actor"] == "admin-api" for e in trail if tenant_id in e["detail"])
