"""A real Sesame process per backend, and real Chromium with a CDP virtual authenticator."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Backend, fresh_backend, unavailable
from tests.mail import Mail, SmtpServer
from tests.processes import free_port

CHROMIUM = os.environ.get("SESAME_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@dataclass(frozen=True)
class LiveServer:
    url: str
    backend: Backend
    log_path: str
    smtp: SmtpServer

    def log(self) -> str:
        with open(self.log_path) as handle:
            return handle.read()


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpServer]:
    """The mail server the live Sesame sends to (aiosmtpd in this process)."""
    server = SmtpServer(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def live_server(
    backend: Backend, smtp_server: SmtpServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A Sesame process on the backend's kind of storage, with a database and key prefix of its
    own: its mail sender must not pick up what in-process tests queue in theirs."""
    with fresh_backend(backend.name, tmp_path_factory.mktemp("live")) as own:
        yield from _live_server(own, smtp_server, tmp_path_factory)


def _live_server(
    backend: Backend,
    smtp_server: SmtpServer,
    tmp_path_factory: pytest.TempPathFactory,
    settings: dict[str, str] | None = None,
) -> Iterator[LiveServer]:
    port = free_port()
    url = f"http://localhost:{port}"
    log_path = tmp_path_factory.mktemp("server") / "sesame.log"
    env = {
        **os.environ,
        **backend.env(),
        "SESAME_ISSUER": url,
        "SESAME_PORT": str(port),
        "SESAME_SMTP_HOST": "127.0.0.1",
        "SESAME_SMTP_PORT": str(smtp_server.port),
        "SESAME_SMTP_SECURITY": "none",
        "SESAME_MAIL_POLL_SECONDS": "0.2",
        **(settings or {}),
    }
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "serve", "--log-level", "warning"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_up(proc, f"{url}/healthz", log_path)
        yield LiveServer(url, backend, str(log_path), smtp_server)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


LOGO_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
    '<circle cx="16" cy="16" r="14" fill="#ffd400"/></svg>'
)


@pytest.fixture(scope="session")
def branded_server(
    backend: Backend, smtp_server: SmtpServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A Sesame with a deployer's brand: name, logo file, a yellow accent (white text on it
    would fail contrast), help and privacy links."""
    logo = tmp_path_factory.mktemp("brand") / "acme.svg"
    logo.write_text(LOGO_SVG)
    brand = {
        "SESAME_RP_NAME": "Acme ID",
        "SESAME_BRAND_LOGO": str(logo),
        "SESAME_BRAND_ACCENT": "#ffd400",
        "SESAME_SUPPORT_URL": "https://help.acme.example/",
        "SESAME_PRIVACY_URL": "https://acme.example/datenschutz",
    }
    with fresh_backend(backend.name, tmp_path_factory.mktemp("branded")) as own:
        yield from _live_server(own, smtp_server, tmp_path_factory, brand)


@pytest.fixture(scope="session")
async def chromium() -> AsyncIterator[Any]:
    if not shutil.which(CHROMIUM):
        unavailable(
            f"Chromium at {CHROMIUM}",
            "install it with `apt-get install -y chromium` (browser tests need it)",
        )
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        unavailable("the playwright package", "pip install playwright")
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        await browser.close()


class Authenticator:
    """A CDP virtual authenticator attached to one page (DevTools protocol, WebAuthn domain)."""

    def __init__(self, cdp: Any, authenticator_id: str) -> None:
        self.cdp = cdp
        self.id = authenticator_id

    @classmethod
    async def attach(cls, page: Any, *, user_verified: bool = True) -> Authenticator:
        cdp = await page.context.new_cdp_session(page)
        await cdp.send("WebAuthn.enable", {"enableUI": False})
        options = {
            "protocol": "ctap2",
            "transport": "internal",
            "hasResidentKey": True,
            "hasUserVerification": True,
            "isUserVerified": user_verified,
            "automaticPresenceSimulation": True,
        }
        found = await cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})
        return cls(cdp, found["authenticatorId"])

    async def credentials(self) -> list[dict[str, Any]]:
        found = await self.cdp.send("WebAuthn.getCredentials", {"authenticatorId": self.id})
        result: list[dict[str, Any]] = found["credentials"]
        return result

    async def remove(self) -> None:
        await self.cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": self.id})


# Chromium's virtual authenticator answers a conditional (autofill) request by itself as soon
# as the sign-in page starts one, so a test of the button or the username-first form runs in a
# browser that reports no conditional mediation (as older browsers do). Autofill has its own test.
NO_AUTOFILL = "PublicKeyCredential.isConditionalMediationAvailable = async () => false;"


async def _context(chromium: Any, *, autofill: bool) -> Any:
    ctx = await chromium.new_context()
    ctx.set_default_timeout(15_000)
    if not autofill:
        await ctx.add_init_script(NO_AUTOFILL)
    return ctx


@pytest.fixture
async def context(chromium: Any) -> AsyncIterator[Any]:
    ctx = await _context(chromium, autofill=False)
    yield ctx
    await ctx.close()


@pytest.fixture
async def other_context(chromium: Any) -> AsyncIterator[Any]:
    ctx = await _context(chromium, autofill=False)
    yield ctx
    await ctx.close()


@pytest.fixture
async def autofill_context(chromium: Any) -> AsyncIterator[Any]:
    ctx = await _context(chromium, autofill=True)
    yield ctx
    await ctx.close()


def wait_until_up(proc: subprocess.Popen[bytes], url: str, log_path: Any) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not start:\n{Path(log_path).read_text()}")
        time.sleep(0.1)


def register_client(server: LiveServer, *args: str) -> dict[str, Any]:
    """``sesame clients create`` against the live server's database."""
    env = {**os.environ, **server.backend.env(), "SESAME_ISSUER": server.url}
    done = subprocess.run(
        [sys.executable, "-m", "service.cli", "clients", "create", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    found: dict[str, Any] = json.loads(done.stdout)
    return found


@dataclass(frozen=True)
class RelyingApp:
    url: str
    client_id: str


@contextlib.contextmanager
def running(cmd: list[str], env: dict[str, str], url: str, log_path: Any) -> Iterator[None]:
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_up(proc, url, log_path)
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="session")
def demo_app(
    live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RelyingApp]:
    """examples/demo_rp (Authlib, public client with PKCE), registered like scripts/run does."""
    url = f"http://localhost:{free_port()}"
    client = register_client(
        live_server,
        "--name", "Sesame demo app", "--type", "public",
        "--redirect-uri", f"{url}/callback", "--post-logout-redirect-uri", f"{url}/",
    )  # fmt: skip
    env = {
        **os.environ,
        "SESAME_ISSUER": live_server.url,
        "DEMO_URL": url,
        "DEMO_CLIENT_ID": client["client_id"],
    }
    log = tmp_path_factory.mktemp("demo") / "demo.log"
    with running([sys.executable, "-m", "examples.demo_rp.app"], env, url, log):
        yield RelyingApp(url, client["client_id"])


NODE_RP = Path(__file__).parent / "node"


def node_rp(
    script: str,
    issuer: str,
    port: int,
    env: dict[str, str],
    ready: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> contextlib.AbstractContextManager[None]:
    """tests/e2e/node/``script`` on ``port`` for Sesame at ``issuer``, with ``env`` beside this
    process's, up once ``ready`` answers; refused as unavailable when Node.js or openid-client
    is missing."""
    if not shutil.which("node") or not (NODE_RP / "node_modules" / "openid-client").exists():
        unavailable(
            "Node.js with openid-client",
            "install Node.js, then `npm install --no-package-lock` in tests/e2e/node "
            "(scripts/test does it)",
        )
    log = tmp_path_factory.mktemp("node") / script.replace(".mjs", ".log")
    env = {**os.environ, "ISSUER": issuer, "PORT": str(port), **env}
    return running(["node", str(NODE_RP / script)], env, ready, log)


@pytest.fixture(scope="session")
def node_app(
    live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RelyingApp]:
    """tests/e2e/node/rp.mjs (openid-client, confidential client with client_secret_basic)."""
    port = free_port()
    url = f"http://localhost:{port}"
    client = register_client(
        live_server,
        "--name", "openid-client app", "--first-party",
        "--redirect-uri", f"{url}/cb", "--post-logout-redirect-uri", f"{url}/bye",
    )  # fmt: skip
    env = {"CLIENT_ID": client["client_id"], "CLIENT_SECRET": client["client_secret"]}
    with node_rp("rp.mjs", live_server.url, port, env, f"{url}/bye", tmp_path_factory):
        yield RelyingApp(url, client["client_id"])


@pytest.fixture(scope="session")
def fapi_app(
    live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RelyingApp]:
    """tests/e2e/node/fapi.mjs (openid-client as a FAPI 2.0 client: private_key_jwt with its
    key published at its own jwks_uri, PAR, DPoP), registered with ``--profile fapi2``."""
    from joserfc.jwk import ECKey

    port = free_port()
    url = f"http://localhost:{port}"
    key = ECKey.generate_key("P-256", parameters={"kid": "fapi-1", "alg": "ES256"}, private=True)
    client = register_client(
        live_server,
        "--name", "FAPI app", "--first-party", "--profile", "fapi2", "--alg", "ES256",
        "--jwks-uri", f"{url}/jwks", "--redirect-uri", f"{url}/cb",
    )  # fmt: skip
    env = {"CLIENT_ID": client["client_id"], "CLIENT_KEY": json.dumps(key.as_dict(private=True))}
    with node_rp("fapi.mjs", live_server.url, port, env, f"{url}/jwks", tmp_path_factory):
        yield RelyingApp(url, client["client_id"])


async def wait_for_mail(
    server: LiveServer, address: str, subject_part: str, *, after: int = 0
) -> Mail:
    """The newest matching mail beyond the first ``after`` ones to ``address``."""
    for _ in range(100):
        found = [m for m in server.smtp.mailbox.to(address) if subject_part in m.subject]
        if len(found) > after:
            return found[-1]
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {subject_part!r} mail to {address}")
