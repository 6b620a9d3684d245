"""WebAuthn Signal API in real Chromium: the account page tells the passkey provider which
passkeys this account still accepts and the account's names; a sign-in with a passkey the
site no longer knows tells the provider to hide it; where the API is missing nothing breaks."""

from __future__ import annotations

import asyncio
import base64
import os
import subprocess
import sys

import pytest
from playwright.async_api import expect

from tests.e2e.conftest import Authenticator
from tests.e2e.test_passkeys_in_browser import signed_up_page

pytestmark = pytest.mark.browser

# The page's calls, recorded instead of reaching the provider.
RECORD = """
window.__signals = [];
for (const name of ["signalUnknownCredential", "signalAllAcceptedCredentials",
                    "signalCurrentUserDetails"]) {
  PublicKeyCredential[name] = (options) => {
    window.__signals.push([name, JSON.parse(JSON.stringify(options))]);
    return Promise.resolve();
  };
}
"""
MISSING = """
for (const name of ["signalUnknownCredential", "signalAllAcceptedCredentials",
                    "signalCurrentUserDetails"]) {
  delete PublicKeyCredential[name];
}
"""


def _b64url(standard: str) -> str:
    return base64.urlsafe_b64encode(base64.b64decode(standard)).decode().rstrip("=")


def _delete_user(server, username: str) -> None:
    env = {**os.environ, **server.backend.env(), "SESAME_ISSUER": server.url}
    subprocess.run(
        [sys.executable, "-m", "service.cli", "users", "delete", username, "--yes"],
        env=env, check=True, capture_output=True, timeout=60,
    )  # fmt: skip


async def test_the_account_page_and_an_unknown_passkey_signal_the_provider(live_server, context):
    await context.add_init_script(RECORD)
    page, auth, username = await signed_up_page(context, live_server, "sig")
    held = [_b64url(c["credentialId"]) for c in await auth.credentials()]
    signals = await page.evaluate("window.__signals")
    by_name = {name: options for name, options in signals}
    accepted = by_name["signalAllAcceptedCredentials"]
    assert accepted["allAcceptedCredentialIds"] == held and accepted["rpId"] == "localhost"
    details = by_name["signalCurrentUserDetails"]
    assert details["name"] == username and details["displayName"] == "Ada Lovelace"
    assert details["userId"] == accepted["userId"] and len(accepted["userId"]) == 22

    # The operator deletes the account; the passkey stays in the provider until told.
    _delete_user(live_server, username)
    await page.goto(f"{live_server.url}/signin")
    await page.get_by_role("button", name="Sign in with a passkey").click()
    await expect(page.locator("#message")).to_contain_text("not registered here")
    signals = await page.evaluate("window.__signals")
    assert signals == [["signalUnknownCredential", {"rpId": "localhost", "credentialId": held[0]}]]


async def test_without_the_signal_api_the_account_page_works(live_server, context):
    await context.add_init_script(MISSING)
    page, _, _ = await signed_up_page(context, live_server, "nosig")
    assert await page.evaluate("typeof PublicKeyCredential.signalAllAcceptedCredentials") == (
        "undefined"
    )
    await expect(page.locator("#message")).to_be_hidden()
    assert await page.get_by_role("button", name="Add a passkey on this device").is_enabled()


# The outcome of the page's conditional (autofill) request, recorded as it settles.
WATCH_CONDITIONAL = """
window.__conditional = "none";
const realGet = navigator.credentials.get.bind(navigator.credentials);
navigator.credentials.get = (options) => {
  if (options.mediation !== "conditional") return realGet(options);
  window.__conditional = "pending";
  return realGet(options).then(
    (cred) => { window.__conditional = "resolved"; return cred; },
    (err) => { window.__conditional = "rejected:" + err.name; throw err; });
};
"""


async def test_a_conditional_request_that_fails_stays_silent(live_server, autofill_context):
    """A provider with no passkey for this site ends the autofill request at once: the person
    started nothing, so the page shows no error; the button still works."""
    await autofill_context.add_init_script(WATCH_CONDITIONAL)
    page = await autofill_context.new_page()
    await Authenticator.attach(page)  # holds no passkey for this site
    await page.goto(f"{live_server.url}/signin")
    # Polled from here: a predicate run inside the page would need 'unsafe-eval' under the
    # page's CSP.
    for _ in range(100):
        settled = await page.evaluate("window.__conditional")
        if settled.startswith("rejected"):
            break
        await asyncio.sleep(0.1)
    assert settled == "rejected:NotAllowedError"
    await expect(page.locator("#message")).to_be_hidden()
    await page.get_by_role("button", name="Sign in with a passkey").click()
    await expect(page.locator("#message")).to_contain_text("closed or timed out")
