"""A single-page app in Chromium on its own origin signs in through a running Sesame with
oauth4webapi (from npm, served by the app itself, no CDN): discovery, the code flow with PKCE
as a public client, userinfo, a refresh and a revocation, every call cross-origin. A page from
an origin no client registered cannot read Sesame's answers: the browser's CORS check stops it."""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.conftest import unavailable
from tests.e2e.conftest import NODE_RP, Authenticator, register_client
from tests.e2e.test_passkeys_in_browser import signed_up_page
from tests.processes import free_port

pytestmark = pytest.mark.browser

SPA_DIR = Path(__file__).parent / "spa"
OAUTH4WEBAPI = NODE_RP / "node_modules" / "oauth4webapi" / "build" / "index.js"


@contextlib.contextmanager
def static_app(config: dict[str, str], host: str = "localhost") -> Iterator[str]:
    """The single-page app's own web server, on an origin of its own; ``config`` is read at
    each request, so the client can be registered once the origin is known."""
    files = {
        "/": ("text/html", (SPA_DIR / "index.html").read_bytes()),
        "/callback": ("text/html", (SPA_DIR / "index.html").read_bytes()),
        "/app.js": ("text/javascript", (SPA_DIR / "app.js").read_bytes()),
        "/oauth4webapi.js": ("text/javascript", OAUTH4WEBAPI.read_bytes()),
    }

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            config_file = ("application/json", json.dumps(config).encode())
            found = config_file if path == "/config.json" else files.get(path)
            if found is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", found[0])
            self.send_header("Content-Length", str(len(found[1])))
            self.end_headers()
            self.wfile.write(found[1])

        def log_message(self, *args: object) -> None:
            pass

    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def oauth4webapi() -> None:
    if not shutil.which("node") or not OAUTH4WEBAPI.exists():
        unavailable("oauth4webapi from npm", "run ./scripts/test (it installs tests/e2e/node)")


async def test_single_page_app_signs_in_refreshes_and_revokes(live_server, context, oauth4webapi):
    page, _, username = await signed_up_page(context, live_server, "spa")
    config = {"issuer": live_server.url}
    with static_app(config) as spa:
        # A public client's allowed origins default to its web redirect URIs' origins.
        client = register_client(
            live_server,
            "--name", "Single-page app", "--type", "public", "--first-party",
            "--redirect-uri", f"{spa}/callback",
        )  # fmt: skip
        assert client["allowed_origins"] == [spa]
        config["client_id"] = client["client_id"]
        await page.goto(spa)
        # Already signed in at Sesame: straight back to the app, which does the rest.
        await page.wait_for_url(re.compile(re.escape(spa) + r"/callback"))
        await expect(page.locator("#status")).to_have_text("done", timeout=20_000)
        result = json.loads(await page.locator("#result").inner_text())
    assert result["aud"] == client["client_id"]
    assert result["username"] == username
    assert result["email"] == f"{username}@example.com"
    assert result["rotated"] is True
    assert result["afterRevocation"] == "invalid_grant"


async def test_a_page_from_an_unregistered_origin_is_blocked(live_server, context, oauth4webapi):
    page = await context.new_page()
    await Authenticator.attach(page)
    # 127.0.0.1, not localhost: a loopback IP is never a default origin, and no client lists it.
    with static_app({"issuer": live_server.url}, host="127.0.0.1") as stranger:
        await page.goto(f"{stranger}/config.json")
        outcome = await page.evaluate(
            """async (issuer) => {
                try {
                    await fetch(`${issuer}/.well-known/openid-configuration`);
                    return "read";
                } catch (error) {
                    return `blocked: ${error.name}`;
                }
            }""",
            live_server.url,
        )
    assert outcome == "blocked: TypeError"


async def test_single_page_app_with_dpop(live_server, context, oauth4webapi):
    """RFC 9449 from a browser with oauth4webapi: the page's own key proves every token request
    and the userinfo call (the DPoP header and Sesame's DPoP-Nonce pass CORS), the tokens are
    DPoP-bound, and the public client's refresh token is refused without a proof."""
    page, _, username = await signed_up_page(context, live_server, "spadpop")
    config: dict[str, object] = {"issuer": live_server.url, "dpop": True}
    with static_app(config) as spa:  # type: ignore[arg-type]
        client = register_client(
            live_server,
            "--name", "DPoP single-page app", "--type", "public", "--first-party",
            "--redirect-uri", f"{spa}/callback",
        )  # fmt: skip
        config["client_id"] = client["client_id"]
        await page.goto(spa)
        await page.wait_for_url(re.compile(re.escape(spa) + r"/callback"))
        await expect(page.locator("#status")).to_have_text("done", timeout=20_000)
        result = json.loads(await page.locator("#result").inner_text())
    assert result["tokenType"].lower() == "dpop"
    assert result["username"] == username
    assert result["rotated"] is True
    assert result["withoutProof"] == "invalid_grant"
    assert result["afterRevocation"] == "invalid_grant"
