"""The device authorization grant (RFC 8628) over HTTP on both backends: a device asks for
codes and polls the token endpoint while a signed-in person approves or denies on /device."""

from __future__ import annotations

import asyncio
import re
import secrets

import pytest

from service.oidc.clients import ClientSpec, create_client
from service.oidc.device import USER_CODE_ALPHABET
from tests.conftest import asgi_client
from tests.factories import Browser, signed_up
from tests.rp import RelyingParty

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


class Device:
    """A TV or a CLI: a public client that can show a code and poll."""

    def __init__(self, app, client_id: str) -> None:
        self.app = app
        self.client_id = client_id

    @classmethod
    async def register(cls, app, **spec) -> Device:
        values = {
            "name": "Living-room TV",
            "type": "public",
            "redirect_uris": [],
            "grant_types": ["device_code", "refresh_token"],  # the alias operators type
            **spec,
        }
        row, _ = await create_client(app.state.oidc, ClientSpec(**values))
        return cls(app, row.client_id)

    async def start(self, scope: str = "openid profile") -> dict:
        async with asgi_client(self.app) as c:
            response = await c.post(
                "/device_authorization", data={"client_id": self.client_id, "scope": scope}
            )
        assert response.status_code == 200, response.text
        return response.json()

    async def poll(self, device_code: str):
        async with asgi_client(self.app) as c:
            return await c.post(
                "/token",
                data={
                    "grant_type": DEVICE_GRANT,
                    "device_code": device_code,
                    "client_id": self.client_id,
                },
            )


def error_of(response) -> str:
    assert response.status_code == 400, response.text
    assert response.headers["cache-control"] == "no-store"
    return response.json()["error"]


@pytest.fixture
async def device(app) -> Device:
    # As start-up does (the in-process client runs no lifespan): signing keys exist before
    # these tests move the clock ahead, so none is created with a start in the future.
    await app.state.oidc.signer.ensure()
    return await Device.register(app)


async def approve(browser: Browser, user_code: str, decision: str = "allow"):
    return await browser.form("/device", {"user_code": user_code, "decision": decision})


async def test_device_signs_in_once_the_person_approves(app, device, browser, clock):
    codes = await device.start()
    assert re.fullmatch(
        f"[{USER_CODE_ALPHABET}]{{4}}-[{USER_CODE_ALPHABET}]{{4}}", codes["user_code"]
    )
    assert codes["verification_uri"] == "http://localhost:8000/device"
    assert codes["verification_uri_complete"].endswith(f"?user_code={codes['user_code']}")
    assert codes["expires_in"] == 600 and codes["interval"] == 5
    assert error_of(await device.poll(codes["device_code"])) == "authorization_pending"
    # Polling before the interval is over: slow_down, and the interval grows by 5 seconds.
    assert error_of(await device.poll(codes["device_code"])) == "slow_down"
    clock.advance(6)  # past the first 5 s, not the 10 s it is now: slower still, 15 s
    assert error_of(await device.poll(codes["device_code"])) == "slow_down"
    clock.advance(16)
    assert error_of(await device.poll(codes["device_code"])) == "authorization_pending"

    # Typed loosely: lower case, a space instead of the dash.
    typed = codes["user_code"].lower().replace("-", " ")
    page = await browser.client.get("/device", params={"user_code": typed})
    assert page.status_code == 200
    assert "Connect Living-room TV?" in page.text and codes["user_code"] in page.text
    done = await approve(browser, codes["user_code"])
    assert done.status_code == 200 and "Device connected" in done.text

    clock.advance(16)
    tokens = await device.poll(codes["device_code"])
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    assert {"access_token", "id_token", "refresh_token"} <= set(body)
    rp = RelyingParty(app, device.client_id, None)
    claims = await rp.id_claims(body["id_token"])
    assert claims["aud"] == device.client_id and claims["amr"] == ["passkey"]
    assert (await rp.userinfo(body["access_token"])).status_code == 200
    assert (await rp.refresh(body["refresh_token"])).status_code == 200
    # Tokens are issued once.
    clock.advance(16)
    assert error_of(await device.poll(codes["device_code"])) == "invalid_grant"
    # And the user code decided once.
    assert (await approve(browser, codes["user_code"])).status_code == 400


async def test_denied_is_access_denied(device, browser):
    codes = await device.start()
    denied = await approve(browser, codes["user_code"], "deny")
    assert denied.status_code == 200 and "Request denied" in denied.text
    assert error_of(await device.poll(codes["device_code"])) == "access_denied"


async def test_codes_expire(device, browser, clock):
    codes = await device.start()
    clock.advance(601)
    assert error_of(await device.poll(codes["device_code"])) == "expired_token"
    page = await browser.client.get("/device", params={"user_code": codes["user_code"]})
    assert page.status_code == 400 and 'id="device-error"' in page.text
    assert (await approve(browser, codes["user_code"])).status_code == 400


async def test_the_page_asks_to_sign_in_first(device, client):
    codes = await device.start()
    response = await client.get("/device", params={"user_code": codes["user_code"]})
    assert response.status_code == 303
    assert response.headers["location"] == (
        "/signin?next=%2Fdevice%3Fuser_code%3D" + codes["user_code"]
    )
    entry = await client.get("/device")
    assert entry.status_code == 200 and 'name="user_code"' in entry.text


async def test_wrong_codes_are_limited_per_browser(make_app, backend):
    app = make_app(redis_prefix=f"{backend.redis_prefix}{secrets.token_hex(4)}:")
    device = await Device.register(app)
    codes = await device.start()
    async with asgi_client(app) as c:
        browser, _, _ = await signed_up(c)
        for _ in range(5):
            wrong = await browser.client.get("/device", params={"user_code": "BBBB-BBBB"})
            assert wrong.status_code == 400
        # Past the budget even the right code waits for the window to end.
        limited = await browser.client.get("/device", params={"user_code": codes["user_code"]})
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
        assert error_of(await device.poll(codes["device_code"])) == "authorization_pending"


async def test_device_authorization_is_limited_per_address(make_app, backend):
    app = make_app(
        device_requests_per_ip=3, redis_prefix=f"{backend.redis_prefix}{secrets.token_hex(4)}:"
    )
    device = await Device.register(app)
    for _ in range(3):
        await device.start()
    async with asgi_client(app) as c:
        limited = await c.post("/device_authorization", data={"client_id": device.client_id})
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
    assert limited.json()["error"] == "rate_limited" and limited.json()["error_description"]


async def test_two_approvals_at_once_decide_once(device, client, other_client):
    codes = await device.start()
    first, _, _ = await signed_up(client)
    second, _, _ = await signed_up(other_client)
    answers = await asyncio.gather(
        approve(first, codes["user_code"]), approve(second, codes["user_code"])
    )
    assert sorted(a.status_code for a in answers) == [200, 400]


async def test_only_clients_registered_for_it_may_start(app, device):
    rp = await RelyingParty.register(app)  # an ordinary web app
    async with asgi_client(app) as c:
        refused = await c.post(
            "/device_authorization",
            data={"client_id": rp.client_id, "client_secret": rp.secret or ""},
        )
        assert error_of(refused) == "unauthorized_client"
        unknown = await c.post("/device_authorization", data={"client_id": "nobody"})
        assert unknown.status_code == 401 and unknown.json()["error"] == "invalid_client"
        assert (
            error_of(
                await c.post(
                    "/device_authorization", data={"client_id": device.client_id, "scope": "x"}
                )
            )
            == "invalid_scope"
        )
    assert error_of(await device.poll("not-a-device-code")) == "invalid_grant"
    other = await Device.register(app)
    codes = await device.start()
    assert error_of(await other.poll(codes["device_code"])) == "invalid_grant"


async def test_discovery_advertises_the_endpoint_and_the_grant(client):
    meta = (await client.get("/.well-known/openid-configuration")).json()
    assert meta["device_authorization_endpoint"] == "http://localhost:8000/device_authorization"
    assert DEVICE_GRANT in meta["grant_types_supported"]
