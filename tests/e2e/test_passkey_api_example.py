"""The example app of the README's "Add passkeys to an existing app", in Chromium with a
virtual authenticator: the app's own login, then add a passkey through Sesame's passkey API,
sign in with it (the app verifies Sesame's JWT against JWKS), list and delete."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from playwright.async_api import expect

from tests.e2e.conftest import Authenticator, LiveServer, RelyingApp, free_port, running

pytestmark = pytest.mark.browser


@pytest.fixture(scope="session")
def example_app(
    live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RelyingApp]:
    url = f"http://localhost:{free_port()}"
    done = subprocess.run(
        [
            sys.executable, "-m", "service.cli", "tenants", "create", "--name", "Example app",
            "--rp-id", "localhost", "--origin", url,
        ],
        env={**os.environ, **live_server.backend.env(), "SESAME_ISSUER": live_server.url},
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    tenant = json.loads(done.stdout)
    env = {
        **os.environ,
        "SESAME_URL": live_server.url,
        "SESAME_TENANT": tenant["tenant_id"],
        "SESAME_API_KEY": tenant["api_key"],
        "APP_URL": url,
    }
    log = tmp_path_factory.mktemp("example") / "example.log"
    with running([sys.executable, "-m", "examples.passkey_app.app"], env, url, log):
        yield RelyingApp(url, tenant["tenant_id"])


async def test_example_app_adds_and_uses_passkeys(example_app, context):
    page = await context.new_page()
    authenticator = await Authenticator.attach(page)
    await page.goto(example_app.url)
    await page.get_by_label("Username").fill("alice")
    await page.get_by_role("button", name="Sign in (the app's own login)").click()
    await expect(page.locator("#status")).to_have_text("Signed in as alice")

    await page.get_by_role("button", name="Add a passkey").click()
    await expect(page.locator(".credential")).to_have_count(1)
    assert len(await authenticator.credentials()) == 1

    await page.get_by_role("button", name="Sign out").click()
    await expect(page.locator("#status")).to_have_text("Not signed in.")
    await page.get_by_role("button", name="Sign in with a passkey").click()
    await expect(page.locator("#status")).to_have_text("Signed in as alice")

    await page.locator("button.delete").click()
    await expect(page.locator(".credential")).to_have_count(0)
    await page.get_by_role("button", name="Sign out").click()
    await page.get_by_role("button", name="Sign in with a passkey").click()
    await expect(page.locator("#error")).to_contain_text("This passkey is not registered here")
    await expect(page.locator("#status")).to_have_text("Not signed in.")
