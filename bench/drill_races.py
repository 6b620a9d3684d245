"""The race drill (issue 16): every single-use thing sent many times at once (20 by default)
against a real Sesame process (PostgreSQL + Redis, or the embedded default), with a real SMTP
server in this process for the email link and code. Exactly one of each may succeed:

    the same refresh token, email link, email code, device code (polled once the person
    approved) and WebAuthn assertion.

The authorization code is the one exception the specification makes: a code used twice
revokes what was issued for it (RFC 6749 4.1.2), so when the copies overlap the first
exchange is refused too; there, at most one may succeed and nothing issued may still work.
It prints each race's successes and other answers, and a verdict: PASS when every race had
exactly one success (exit 0), FAIL otherwise (exit 1).

    .venv/bin/python bench/drill_races.py [--backend embedded] [--copies 20]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import sys
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.server import running_sesame  # noqa: E402
from bench.targets import REDIRECT, _sesame, pkce_pair  # noqa: E402
from tests.factories import Browser, new_username  # noqa: E402
from tests.mail import Mail, SmtpServer  # noqa: E402
from tests.processes import free_port  # noqa: E402
from tests.softauthn import SoftAuthenticator  # noqa: E402

DEVICE = "urn:ietf:params:oauth:grant-type:device_code"


async def race(copies: int, send: Callable[[], Awaitable[httpx.Response]]) -> list[httpx.Response]:
    """``send`` ``copies`` times at once; the answers (a failed request raises)."""
    return list(await asyncio.gather(*(send() for _ in range(copies))))


def statuses(answers: list[httpx.Response]) -> Counter[int]:
    return Counter(a.status_code for a in answers)


class Races:
    def __init__(self, url: str, client: dict[str, str], smtp: SmtpServer, copies: int) -> None:
        self.url, self.smtp, self.copies = url, smtp, copies
        self.client_id = client["client_id"]
        raw = f"{client['client_id']}:{client['client_secret']}".encode()
        self.basic = {"Authorization": "Basic " + base64.b64encode(raw).decode()}
        self.results: dict[str, Counter[int]] = {}
        self.leaked = 0  # tokens from a replayed code that still work afterwards

    async def token(self, app: httpx.AsyncClient, body: dict[str, str]) -> httpx.Response:
        return await app.post("/token", data=body, headers=self.basic)

    async def run(self) -> None:
        auth = SoftAuthenticator(origin=self.url)
        username = new_username()
        email = f"{username}@example.com"
        async with (
            httpx.AsyncClient(base_url=self.url, timeout=60) as page,
            httpx.AsyncClient(base_url=self.url, timeout=60) as app,
        ):
            browser = Browser(page)
            (await browser.signup(auth, username=username, email=email)).raise_for_status()
            await self.code_and_refresh(page, app)
            await self.assertion(page, auth)
            await self.email(page, email)
            await self.device(page, app)

    async def code_and_refresh(self, page: httpx.AsyncClient, app: httpx.AsyncClient) -> None:
        verifier, challenge = pkce_pair()
        query = urlencode({
            "response_type": "code", "client_id": self.client_id, "redirect_uri": REDIRECT,
            "scope": "openid", "nonce": "n", "code_challenge": challenge,
            "code_challenge_method": "S256",
        })  # fmt: skip
        location = (await page.get(f"/authorize?{query}")).headers["location"]
        code = parse_qs(urlsplit(location).query)["code"][0]
        body = {"grant_type": "authorization_code", "code": code,
                "redirect_uri": REDIRECT, "code_verifier": verifier}  # fmt: skip
        answers = await race(self.copies, lambda: self.token(app, body))
        self.results["authorization code"] = statuses(answers)
        # RFC 6749 4.1.2: a code used twice revokes what was issued for it, so a replay that
        # arrives while the first exchange is being written refuses that one too. Whatever an
        # answer issued must not work afterwards.
        for won in (a for a in answers if a.status_code == 200):
            bearer = {"Authorization": f"Bearer {won.json()['access_token']}"}
            if (await app.get("/userinfo", headers=bearer)).status_code == 200:
                self.leaked += 1
        verifier, challenge = pkce_pair()
        query = query.replace(query.split("code_challenge=")[1].split("&")[0], challenge)
        location = (await page.get(f"/authorize?{query}")).headers["location"]
        code = parse_qs(urlsplit(location).query)["code"][0]
        body = {**body, "code": code, "code_verifier": verifier}
        refresh = (await self.token(app, body)).json()["refresh_token"]
        body = {"grant_type": "refresh_token", "refresh_token": refresh}
        self.results["refresh token"] = statuses(
            await race(self.copies, lambda: self.token(app, body))
        )

    async def assertion(self, page: httpx.AsyncClient, auth: SoftAuthenticator) -> None:
        browser = Browser(page)
        options = await browser.begin_signin()
        body = {"ceremony": options["ceremony"], "credential": auth.get(options["publicKey"])}
        headers = {"X-CSRF-Token": await browser.csrf(), "Accept": "application/json"}
        self.results["WebAuthn assertion"] = statuses(
            await race(self.copies, lambda: page.post("/signin/finish", json=body, headers=headers))
        )

    async def mail(self, page: httpx.AsyncClient, email: str) -> tuple[str, str, str]:
        """Ask for a sign-in link in this browser; the link's path, its code and a CSRF token."""

        def links() -> list[Mail]:
            return [m for m in self.smtp.mailbox.to(email) if "sign-in link" in m.subject]

        before = len(links())
        csrf = await Browser(page).csrf()
        await page.post("/signin/email", data={"email": email, "csrf_token": csrf})
        for _ in range(200):
            if len(links()) > before:
                break
            await asyncio.sleep(0.05)
        mail = links()[-1]
        return mail.path, mail.code, csrf

    async def email(self, page: httpx.AsyncClient, email: str) -> None:
        page.cookies.clear()
        path, _, csrf = await self.mail(page, email)
        self.results["email link"] = statuses(
            await race(self.copies, lambda: page.post(path, data={"csrf_token": csrf}))
        )
        page.cookies.clear()
        _, code, csrf = await self.mail(page, email)
        form = {"code": code, "csrf_token": csrf}
        self.results["email code"] = statuses(
            await race(self.copies, lambda: page.post("/signin/email/code", data=form))
        )

    async def device(self, page: httpx.AsyncClient, app: httpx.AsyncClient) -> None:
        started = await app.post(
            "/device_authorization", data={"scope": "openid"}, headers=self.basic
        )
        grant = started.json()
        csrf = await Browser(page).csrf()
        form = {"user_code": grant["user_code"], "decision": "allow", "csrf_token": csrf}
        (await page.post("/device", data=form)).raise_for_status()
        body = {"grant_type": DEVICE, "device_code": grant["device_code"]}
        self.results["device code"] = statuses(
            await race(self.copies, lambda: self.token(app, body))
        )


SUCCESS = {"authorization code": 200, "refresh token": 200, "WebAuthn assertion": 200,
           "email link": 303, "email code": 303, "device code": 200}  # fmt: skip


def verdict(results: dict[str, Counter[int]], leaked: int) -> int:
    """Exactly one success each; for the code, at most one, and nothing it issued usable."""
    passed = leaked == 0 and set(results) == set(SUCCESS)
    for name, counted in results.items():
        wins = counted.get(SUCCESS[name], 0)
        others = ", ".join(f"{s}: {n}" for s, n in sorted(counted.items()) if s != SUCCESS[name])
        print(f"  {name:18s} successes {wins}  others {others or '-'}")
        passed = passed and (wins <= 1 if name == "authorization code" else wins == 1)
    print(f"  tokens from the replayed code still usable afterwards: {leaked}")
    print(f"verdict: {'PASS' if passed else 'FAIL'}")
    return 0 if passed else 1


async def drill(args: argparse.Namespace) -> int:
    smtp = SmtpServer(free_port())
    smtp.start()
    os.environ.update({f"SESAME_{k.upper()}": str(v) for k, v in smtp.settings().items()})
    try:
        async with running_sesame(args.backend, args) as (url, env):
            client = await _sesame(
                env, "clients", "create", "--name", "races", "--first-party",
                "--redirect-uri", REDIRECT, "--scope", "openid",
                "--grant", "authorization_code", "--grant", "refresh_token", "--grant", DEVICE,
            )  # fmt: skip
            races = Races(url, client, smtp, args.copies)
            await races.run()
    finally:
        smtp.stop()
    print(f"race drill on {args.backend}: each single-use thing sent {args.copies} times at once")
    return verdict(races.results, races.leaked)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--backend", choices=["postgres", "embedded"], default="postgres")
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--server-cpu", type=int, default=None)
    parser.add_argument("--client-cpu", type=int, default=None)
    parser.add_argument("--server-root", default=None)
    sys.exit(asyncio.run(drill(parser.parse_args())))


if __name__ == "__main__":
    main()
