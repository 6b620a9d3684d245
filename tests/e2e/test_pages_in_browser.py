"""Every hosted page in real Chromium, light and dark, desktop and phone wide: axe-core finds no
serious or critical accessibility violation, nothing is wider than the viewport, and dark mode
really is dark (issue 14)."""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.e2e.conftest import register_client, wait_for_mail
from tests.e2e.test_email_in_browser import ask_for_link
from tests.e2e.test_passkeys_in_browser import signed_up_page

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "node" / "node_modules" / "axe-core" / "axe.min.js"

# Elements whose box reaches past the right edge of the viewport (what makes a phone scroll
# sideways), named for the failure message.
TOO_WIDE = """() => [...document.querySelectorAll("body *")]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
  .map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "")
             + (e.className ? "." + e.className : ""))"""

BACKGROUND = "() => getComputedStyle(document.documentElement).backgroundColor"

# axe-core's findings of serious and critical impact, one line each.
AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => `${v.id}: ${v.help} (${v.nodes.map(n => n.target.join(" ")).join(", ")})`);
}"""


def _luminance(css_rgb: str) -> float:
    channels = [int(part) for part in css_rgb[css_rgb.index("(") + 1 : -1].split(",")[:3]]
    return sum(
        weight * value / 255
        for weight, value in zip((0.2126, 0.7152, 0.0722), channels, strict=True)
    )


async def check_page(page, label: str) -> None:
    """The page as it is now, in both colour schemes and at desktop and phone widths."""
    if not AXE.exists():
        pytest.fail("axe-core is missing: npm install --no-package-lock in tests/e2e/node")
    for scheme in ("light", "dark"):
        await page.emulate_media(color_scheme=scheme)
        for width in (1280, 390):
            await page.set_viewport_size({"width": width, "height": 844})
            where = f"{label}, {scheme}, {width} px"
            wide = await page.evaluate(TOO_WIDE)
            assert wide == [], f"{where}: wider than the viewport: {wide}"
            scroll = await page.evaluate("document.documentElement.scrollWidth")
            assert scroll <= width, f"{where}: scrolls sideways ({scroll} px)"
            light = _luminance(await page.evaluate(BACKGROUND))
            assert (light > 0.8) if scheme == "light" else (light < 0.15), (where, light)
            # Evaluated through the DevTools protocol: the page's CSP (script-src 'self')
            # applies to the page's own scripts, not to the test's.
            if not await page.evaluate("typeof axe !== 'undefined'"):
                await page.evaluate(AXE.read_text())
            violations = await page.evaluate(AXE_RUN)
            assert violations == [], f"{where}: " + "\n".join(violations)


async def test_signed_out_pages(live_server, context):
    page = await context.new_page()
    for path, label in (
        ("/signin", "sign-in"),
        ("/signup", "sign-up"),
        ("/signin?next=/account", "sign-in asked by the account page"),
        ("/device", "device code entry"),
        ("/signin/email/not-a-real-link", "expired email link"),
        ("/email/confirm/not-a-real-link", "expired confirmation link"),
        ("/logout", "signed out"),
    ):
        await page.goto(f"{live_server.url}{path}")
        if path == "/signin":
            await page.get_by_text("Email me a sign-in link").click()  # the open disclosure too
        await check_page(page, label)
    await ask_for_link(page, live_server, f"nobody-{secrets.token_hex(3)}@example.com")
    await page.wait_for_url("**/signin/email")
    await check_page(page, "check your email")


async def test_signed_in_pages(live_server, context):
    page, _, username = await signed_up_page(context, live_server, "a11y")
    await page.get_by_text("Change email address").click()
    await check_page(page, "account")
    mail = await wait_for_mail(live_server, f"{username}@example.com", "Confirm your email")
    confirm = re.search(r"(https?://\S+/email/confirm/\S+)", mail.text).group(1)
    await page.goto(confirm)
    await check_page(page, "email confirmation")
    await page.goto(f"{live_server.url}/device")
    await check_page(page, "device code entry, signed in")
    await page.goto(f"{live_server.url}/logout")
    await check_page(page, "sign-out confirmation")
    app = register_client(
        live_server,
        "--name", "Elsewhere", "--redirect-uri", "http://localhost:9/cb",
        "--logo-uri", f"{live_server.url}/favicon.ico", "--policy-uri", "https://elsewhere.example/p",
    )  # fmt: skip
    query = {
        "client_id": app["client_id"],
        "response_type": "code",
        "scope": "openid profile email",
        "redirect_uri": "http://localhost:9/cb",
        "state": "s",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
    }
    await page.goto(f"{live_server.url}/authorize?{urlencode(query)}")
    await page.wait_for_selector("[data-page=consent]")
    await check_page(page, "consent")
