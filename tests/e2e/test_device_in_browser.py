"""The device flow end to end (RFC 8628): a CLI-like client asks a running Sesame for codes and
polls its token endpoint, honouring the interval, while a person in Chromium types the code on
/device, signs in with their passkey and approves."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from playwright.async_api import expect

from tests.e2e.conftest import register_client
from tests.e2e.test_passkeys_in_browser import signed_up_page

pytestmark = pytest.mark.browser
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


async def cli_sign_in(issuer: str, client_id: str, codes_ready: asyncio.Queue) -> dict:
    """What a command-line tool does: ask for codes, show them, poll until there is an answer."""
    async with httpx.AsyncClient(base_url=issuer) as http:
        meta = (await http.get("/.well-known/openid-configuration")).json()
        codes = (
            await http.post(
                meta["device_authorization_endpoint"],
                data={"client_id": client_id, "scope": "openid profile"},
            )
        ).json()
        await codes_ready.put(codes)
        interval = codes["interval"]
        while True:
            await asyncio.sleep(interval)
            answer = await http.post(
                meta["token_endpoint"],
                data={
                    "grant_type": DEVICE_GRANT,
                    "device_code": codes["device_code"],
                    "client_id": client_id,
                },
            )
            body = answer.json()
            if answer.status_code == 200:
                return body
            if body["error"] == "slow_down":
                interval += 5
            elif body["error"] != "authorization_pending":
                return body


async def test_a_cli_signs_in_while_the_person_approves_in_the_browser(live_server, context):
    client = register_client(
        live_server,
        "--name", "Sesame CLI", "--type", "public",
        "--grant", "device_code", "--grant", "refresh_token",
    )  # fmt: skip
    assert client["grant_types"] == ["refresh_token", DEVICE_GRANT]
    page, _, username = await signed_up_page(context, live_server, "tv")
    await page.get_by_role("button", name="Sign out everywhere").click()
    await page.wait_for_url(re.compile(r"/signin"))

    ready: asyncio.Queue = asyncio.Queue()
    polling = asyncio.create_task(cli_sign_in(live_server.url, client["client_id"], ready))
    codes = await asyncio.wait_for(ready.get(), 10)
    await page.goto(codes["verification_uri"])
    await page.get_by_label("Code").fill(codes["user_code"].lower())
    await page.get_by_role("button", name="Continue").click()
    # Not signed in: the passkey first, then straight back to the code.
    await page.wait_for_url(re.compile(r"/signin\?next="))
    await page.get_by_role("button", name="Sign in with a passkey").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Connect Sesame CLI?")
    await expect(page.locator("#device-user-code")).to_have_text(codes["user_code"])
    await page.get_by_role("button", name="Allow").click()
    await expect(page.locator("#device-done")).to_have_text("Device connected")

    tokens = await asyncio.wait_for(polling, 60)
    assert {"access_token", "id_token", "refresh_token"} <= set(tokens), tokens
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        info = await http.get(
            "/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
    assert info.json()["preferred_username"] == username
