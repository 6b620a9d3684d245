"""The load drill (issue 16): N simulated people, each with a software authenticator and a
browser of their own, do the whole journey at a fixed rate for M minutes, against a real
Sesame process on PostgreSQL + Redis (or the embedded default):

    passkey sign-in -> /authorize -> /token (code + PKCE) -> /userinfo -> /token (refresh)
    -> /revoke

Every ID token is validated as an app would (signature against /jwks.json, iss, aud, nonce,
exp), and after each journey the used code and the revoked refresh token are tried again and
must be refused; every answer that is not the expected one is an error, counted by kind. It prints
completed flows, errors by kind, p50/p99 per step, the server's RSS before and after, and a
verdict: PASS when there was no error at all (exit 0), FAIL otherwise (exit 1).

    .venv/bin/python bench/drill_load.py                  # 200 people, 15 minutes, 20 flows/s
    .venv/bin/python bench/drill_load.py --smoke          # 20 people, 60 s, 5 flows/s (CI)
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import secrets
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from joserfc import jwt
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.server import pct, running_sesame  # noqa: E402
from bench.targets import REDIRECT, _sesame, pkce_pair, rss_mb  # noqa: E402
from tests.factories import Browser  # noqa: E402
from tests.softauthn import SoftAuthenticator  # noqa: E402

STEPS = ("signin", "authorize", "token", "userinfo", "refresh", "revoke")


class StepFailed(Exception):
    """One step answered what an app would not accept: its kind is ``step:status``."""


class Drill:
    def __init__(self, url: str, client_id: str, secret: str, jwks: KeySet) -> None:
        self.url, self.client_id, self.jwks = url, client_id, jwks
        raw = f"{client_id}:{secret}".encode()
        self.basic = {"Authorization": "Basic " + base64.b64encode(raw).decode()}
        self.times: dict[str, list[float]] = {step: [] for step in STEPS}
        self.errors: Counter[str] = Counter()
        self.completed = 0
        self.id_tokens = 0

    async def timed(self, step: str, call: object) -> httpx.Response:
        started = time.perf_counter()
        response: httpx.Response = await call  # type: ignore[misc]
        self.times[step].append(time.perf_counter() - started)
        return response

    def expect(self, step: str, response: httpx.Response, status: int = 200) -> None:
        if response.status_code != status:
            raise StepFailed(f"{step}:{response.status_code}")

    async def flow(
        self, client: httpx.AsyncClient, auth: SoftAuthenticator, base: str | None = None
    ) -> None:
        """One person's whole journey; ``base``: the replica the app's server talks to (the
        issuer's by default)."""
        client.cookies.clear()
        browser = Browser(client)
        await browser.csrf()
        begun = await browser.post("/signin/begin", {})
        self.expect("signin-begin", begun)
        options = begun.json()
        signed = await self.timed(
            "signin",
            browser.post(
                "/signin/finish",
                {"ceremony": options["ceremony"], "credential": auth.get(options["publicKey"])},
            ),
        )
        self.expect("signin", signed)
        async with httpx.AsyncClient(base_url=base or self.url, timeout=30) as app:
            issued = await self.tokens(client, app)
            used = issued["_code"]
            bearer = {"Authorization": f"Bearer {issued['access_token']}"}
            info = await self.timed("userinfo", app.get("/userinfo", headers=bearer))
            self.expect("userinfo", info)
            body = {"grant_type": "refresh_token", "refresh_token": issued["refresh_token"]}
            fresh = await self.timed("refresh", app.post("/token", data=body, headers=self.basic))
            self.expect("refresh", fresh)
            body = {"token": fresh.json()["refresh_token"], "token_type_hint": "refresh_token"}
            gone = await self.timed("revoke", app.post("/revoke", data=body, headers=self.basic))
            self.expect("revoke", gone)
            # Nothing used or revoked works again: the code a second time, the revoked token.
            self.expect("code-reused", await app.post("/token", data=used, headers=self.basic), 400)
            body = {"grant_type": "refresh_token", "refresh_token": fresh.json()["refresh_token"]}
            revoked = await app.post("/token", data=body, headers=self.basic)
            self.expect("revoked-refresh", revoked, 400)

    async def tokens(self, page: httpx.AsyncClient, app: httpx.AsyncClient) -> dict[str, Any]:
        """A signed-in browser through /authorize, then the app's code exchange with the ID
        token validated: the token response, with the exchange's form as ``_code``."""
        verifier, challenge = pkce_pair()
        state, nonce = secrets.token_urlsafe(8), secrets.token_urlsafe(8)
        query = urlencode({
            "response_type": "code", "client_id": self.client_id, "redirect_uri": REDIRECT,
            "scope": "openid profile email", "state": state, "nonce": nonce,
            "code_challenge": challenge, "code_challenge_method": "S256",
        })  # fmt: skip
        answer = await self.timed("authorize", page.get(f"/authorize?{query}"))
        location = answer.headers.get("location", "")
        if answer.status_code not in (302, 303) or not location.startswith(REDIRECT):
            raise StepFailed(f"authorize:{answer.status_code}")
        params = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
        if params.get("state") != state or params.get("iss") != self.url or "code" not in params:
            raise StepFailed("authorize:bad-response")
        body = {"grant_type": "authorization_code", "code": params["code"],
                "redirect_uri": REDIRECT, "code_verifier": verifier}  # fmt: skip
        tokens = await self.timed("token", app.post("/token", data=body, headers=self.basic))
        self.expect("token", tokens)
        issued: dict[str, Any] = tokens.json()
        self.validate(issued["id_token"], nonce)
        issued["_code"] = body
        return issued

    def validate(self, id_token: str, nonce: str) -> None:
        """What an app's library checks (OIDC Core 3.1.3.7)."""
        try:
            token = jwt.decode(id_token, self.jwks, algorithms=["RS256"])
            JWTClaimsRegistry(
                iss={"essential": True, "value": self.url},
                aud={"essential": True, "value": self.client_id},
                nonce={"essential": True, "value": nonce},
                exp={"essential": True},
            ).validate(token.claims)
        except Exception as exc:
            raise StepFailed(f"id_token:{type(exc).__name__}") from exc
        self.id_tokens += 1


async def drill(args: argparse.Namespace) -> int:
    async with running_sesame(args.backend, args) as (url, env):
        pid = int(env["BENCH_SERVER_PID"])
        client = await _sesame(
            env, "clients", "create", "--name", "drill", "--first-party",
            "--redirect-uri", REDIRECT, "--scope", "openid profile email",
            "--grant", "authorization_code", "--grant", "refresh_token",
        )  # fmt: skip
        async with httpx.AsyncClient(base_url=url) as http:
            jwks = KeySet.import_key_set((await http.get("/jwks.json")).json())
        run = Drill(url, client["client_id"], client["client_secret"], jwks)
        people: asyncio.Queue[tuple[httpx.AsyncClient, SoftAuthenticator]] = asyncio.Queue()
        browsers = []
        for _ in range(args.people):
            browser = httpx.AsyncClient(base_url=url, timeout=30)
            auth = SoftAuthenticator(origin=url, backup_eligible=True, backed_up=True)
            (await Browser(browser).signup(auth)).raise_for_status()
            browsers.append(browser)
            people.put_nowait((browser, auth))
        rss_before = rss_mb(pid)
        print(f"drill: {args.people} people signed up; {args.rate}/s for {args.seconds}s "
              f"on {args.backend}; server RSS {rss_before:.1f} MB", flush=True)  # fmt: skip

        async def one() -> None:
            person = await people.get()
            try:
                await run.flow(*person)
                run.completed += 1
            except StepFailed as exc:
                run.errors[str(exc)] += 1
            except (httpx.HTTPError, KeyError, ValueError) as exc:
                run.errors[f"client:{type(exc).__name__}"] += 1
            finally:
                people.put_nowait(person)

        started = time.perf_counter()
        tasks: list[asyncio.Task[None]] = []
        launched = 0
        while (elapsed := time.perf_counter() - started) < args.seconds:
            due = int(elapsed * args.rate) + 1
            while launched < due:
                if people.empty():  # everyone is busy: the server is behind the fixed rate
                    run.errors["overload:no-idle-person"] += 1
                else:
                    tasks.append(asyncio.create_task(one()))
                launched += 1
            tasks = [t for t in tasks if not t.done()]
            await asyncio.sleep(min(0.05, 1 / args.rate))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
        rss_after = rss_mb(pid)
        for browser in browsers:
            await browser.aclose()
    return report(run, elapsed, rss_before, rss_after)


def report(run: Drill, elapsed: float, before: float, after: float) -> int:
    errors = sum(run.errors.values())
    print(f"completed flows: {run.completed} in {elapsed:.1f}s ({run.completed / elapsed:.2f}/s); "
          f"ID tokens validated: {run.id_tokens}")  # fmt: skip
    print(f"errors: {errors}" + "".join(f"\n  {k}: {n}" for k, n in run.errors.most_common()))
    for step in STEPS:
        values = run.times[step]
        if values:
            print(f"  {step:9s} p50 {pct(values, 0.5):7.2f} ms  p99 {pct(values, 0.99):7.2f} ms "
                  f" n={len(values)}")  # fmt: skip
    growth = (after - before) / before * 100 if before else 0.0
    print(f"server RSS: {before:.1f} MB before, {after:.1f} MB after ({growth:+.1f} %)")
    passed = errors == 0 and run.completed > 0 and run.id_tokens == run.completed
    print(f"verdict: {'PASS' if passed else 'FAIL'}")
    return 0 if passed else 1


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--backend", choices=["postgres", "embedded"], default="postgres")
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=900.0)
    parser.add_argument("--rate", type=float, default=20.0, help="flows started per second")
    parser.add_argument("--smoke", action="store_true", help="20 people, 60 s, 5 flows/s")
    parser.add_argument("--server-cpu", type=int, default=None)
    parser.add_argument("--client-cpu", type=int, default=None)
    parser.add_argument("--server-root", default=None)
    args = parser.parse_args()
    if args.smoke:
        args.people, args.seconds, args.rate = 20, 60.0, 5.0
    return args


def main() -> None:
    sys.exit(asyncio.run(drill(parse())))


if __name__ == "__main__":
    main()
