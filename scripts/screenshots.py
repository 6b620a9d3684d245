"""The README's screenshots, made from the running app: ``.venv/bin/python scripts/screenshots.py``.

Starts Sesame on the embedded default in a temporary directory (its own port), drives Chromium
(Debian's, with a virtual passkey authenticator) through sign-up, and saves the sign-in page
light and dark, the account page on a phone, and an app's consent page in German under
``docs/screenshots/``.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.async_api import async_playwright  # noqa: E402

from tests.e2e.conftest import CHROMIUM, CHROMIUM_FLAGS, NO_AUTOFILL, Authenticator  # noqa: E402
from tests.processes import free_port, serve  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
PKCE_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def register(env: dict[str, str], *args: str) -> dict[str, str]:
    done = subprocess.run(  # noqa: S603 (our own CLI, our own arguments)
        [sys.executable, "-m", "service.cli", "clients", "create", *args],
        env=env, cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    found: dict[str, str] = json.loads(done.stdout)
    return found


async def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    port = free_port()
    url = f"http://localhost:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("SESAME_")},
            "SESAME_DATA_DIR": str(Path(tmp) / "data"), "SESAME_ISSUER": url,
            "SESAME_PORT": str(port), "SESAME_RP_NAME": "Acme ID",
            "SESAME_SUPPORT_URL": "https://help.acme.example/",
            "SESAME_PRIVACY_URL": "https://acme.example/privacy",
        }  # fmt: skip
        async with serve(env, url, Path(tmp) / "sesame.log", cwd=Path(tmp)):
            app = register(
                env, "--name", "Acme Shop", "--redirect-uri", "http://localhost:9/cb",
                "--client-uri", "https://shop.acme.example/",
                "--policy-uri", "https://shop.acme.example/privacy",
            )  # fmt: skip
            async with async_playwright() as pw:
                browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
                await shoot(browser, url, app["client_id"])
                await browser.close()
    for path in sorted(OUT.glob("*.png")):
        print(f"{path.relative_to(ROOT)}  {path.stat().st_size // 1024} KiB")


async def shoot(browser, url: str, client_id: str) -> None:  # type: ignore[no-untyped-def]
    for scheme in ("light", "dark"):
        page = await browser.new_page(viewport={"width": 1024, "height": 720})
        await page.emulate_media(color_scheme=scheme)
        await page.goto(f"{url}/signin")
        await page.screenshot(path=OUT / f"signin-{scheme}.png")
        await page.close()

    ctx = await browser.new_context(viewport={"width": 390, "height": 844}, locale="de-DE")
    await ctx.add_init_script(NO_AUTOFILL)
    page = await ctx.new_page()
    await Authenticator.attach(page)
    await page.goto(f"{url}/signup")
    await page.get_by_label("Name (optional)").fill("Ada Lovelace")
    await page.get_by_label("Benutzername", exact=True).fill("ada")
    await page.get_by_label("E-Mail", exact=True).fill("ada@example.com")
    await page.get_by_role("button", name="Konto mit einem Passkey erstellen").click()
    await page.wait_for_url("**/account**")
    await page.emulate_media(color_scheme="dark")
    await page.screenshot(path=OUT / "account-phone-dark-de.png", full_page=True)
    query = {
        "client_id": client_id, "response_type": "code", "scope": "openid profile email",
        "redirect_uri": "http://localhost:9/cb", "code_challenge": PKCE_CHALLENGE,
        "code_challenge_method": "S256",
    }  # fmt: skip
    await page.emulate_media(color_scheme="light")
    await page.goto(f"{url}/authorize?{urlencode(query)}")
    await page.wait_for_selector("[data-page=consent]")
    await page.screenshot(path=OUT / "consent-phone-de.png", full_page=True)
    await ctx.close()


if __name__ == "__main__":
    asyncio.run(main())
