"""The two servers bench/compare.py measures: Sesame (a fresh PostgreSQL database and Redis
prefix, or the embedded default) and node-oidc-provider 9 (bench/node/provider.mjs), each set up
for the same client and able to mint single-use items (codes, refresh tokens) before a run."""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import os
import signal
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlencode

import httpx

from bench.server import running_sesame
from tests.factories import Browser
from tests.processes import free_port
from tests.softauthn import SoftAuthenticator

NODE_DIR = Path(__file__).resolve().parent / "node"
MINT_LUA = Path(__file__).resolve().parent / "wrk" / "mint.lua"
REDIRECT = "https://bench.example/cb"
RESOURCE = "https://api.bench.example"
MINT_CONCURRENCY = 16


def pkce_pair() -> tuple[str, str]:
    verifier = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _family(pid: int) -> list[int]:
    """A process and its children (uvicorn's workers)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return [pid, *(int(p) for p in children.read_text().split())] if children.exists() else [pid]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children so far."""
    ticks = 0
    for p in _family(pid):
        fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return ticks / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB."""
    total = 0
    for p in _family(pid):
        for row in Path(f"/proc/{p}/status").read_text().splitlines():
            if row.startswith("VmRSS:"):
                total += int(row.split()[1])
    return total / 1024


class Target:
    """A server under test: where it is, how the client authenticates, the request body of each
    grant (``{item}`` stands for a code or refresh token) and how to mint those items."""

    url: str
    pid: int
    client_id: str
    secret: str
    verifier: str
    challenge: str
    client_credentials_body: str

    @property
    def authorization(self) -> str:
        pair = f"{self.client_id}:{self.secret}".encode()
        return "Basic " + base64.b64encode(pair).decode()

    def body(self, grant: str) -> str:
        if grant == "code":
            return (
                urlencode(
                    {
                        "grant_type": "authorization_code",
                        "redirect_uri": REDIRECT,
                        "code_verifier": self.verifier,
                    }
                )
                + "&code={item}"
            )
        if grant == "refresh":
            return "grant_type=refresh_token&refresh_token={item}"
        return self.client_credentials_body

    def rss_mb(self) -> float:
        return rss_mb(self.pid)

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)

    async def codes(self, n: int) -> list[str]:
        raise NotImplementedError

    async def items(self, grant: str, n: int) -> list[str]:
        if n == 0:
            return []
        if grant == "code":
            return await self.codes(n)
        # Codes live a minute at most (Sesame's code_seconds): exchange them batch by batch.
        tokens: list[str] = []
        while len(tokens) < n:
            tokens += await self._refresh_tokens(await self.codes(min(1000, n - len(tokens))))
        return tokens

    async def _refresh_tokens(self, codes: list[str]) -> list[str]:
        """Refresh tokens from exchanging ``codes`` (not timed)."""
        tokens: list[str] = []
        pending = list(codes)
        headers = {
            "Authorization": self.authorization,
            "Content-Type": "application/x-www-form-urlencoded",
        }
        template = self.body("code")

        async def worker(client: httpx.AsyncClient) -> None:
            while pending:
                code = pending.pop()
                r = await client.post("/token", content=template.replace("{item}", code))
                if r.status_code != 200:
                    raise SystemExit(f"minting a refresh token: {r.status_code} {r.text}")
                tokens.append(r.json()["refresh_token"])

        async with httpx.AsyncClient(base_url=self.url, headers=headers, timeout=30) as client:
            await asyncio.gather(*(worker(client) for _ in range(MINT_CONCURRENCY)))
        return tokens


class Sesame(Target):
    @classmethod
    @asynccontextmanager
    async def start(cls, args: argparse.Namespace) -> AsyncIterator[Sesame]:
        if args.workers > 1:
            os.environ["SESAME_WORKERS"] = str(args.workers)
        async with running_sesame(args.backend, args) as (url, env):
            self = cls()
            self.url, self.pid, self.env = url, int(env["BENCH_SERVER_PID"]), env
            self.client_cpu = args.client_cpu
            self.verifier, self.challenge = pkce_pair()
            await self._register(env)
            self.browser = httpx.AsyncClient(base_url=url, timeout=30)
            try:
                signed_up = await Browser(self.browser).signup(SoftAuthenticator(origin=url))
                signed_up.raise_for_status()
                yield self
            finally:
                await self.browser.aclose()

    async def _register(self, env: dict[str, str]) -> None:
        await _sesame(env, "apis", "create", "--name", "bench-api", "--audience", RESOURCE,
                      "--scope", "api")  # fmt: skip
        found = await _sesame(
            env, "clients", "create", "--name", "bench", "--first-party",
            "--redirect-uri", REDIRECT, "--scope", "openid profile email",
            "--grant", "authorization_code", "--grant", "refresh_token",
            "--grant", "client_credentials", "--api-scope", RESOURCE, "api",
        )  # fmt: skip
        self.client_id, self.secret = found["client_id"], found["client_secret"]
        self.client_credentials_body = urlencode(
            {"grant_type": "client_credentials", "scope": "api", "resource": RESOURCE}
        )

    async def codes(self, n: int) -> list[str]:
        """Codes through /authorize as the signed-in bench user (a first-party client: no
        consent page), minted by wrk (bench/wrk/mint.lua): faster than any Python client."""
        query = "/authorize?" + urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": REDIRECT,
                "scope": "openid profile email",
                "nonce": "n",
                "code_challenge": self.challenge,
                "code_challenge_method": "S256",
            }
        )
        cookie = "; ".join(f"{c.name}={c.value}" for c in self.browser.cookies.jar)
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "codes.txt"
            env = {**os.environ, "BENCH_PATH": query, "BENCH_COOKIE": cookie,
                   "BENCH_COUNT": str(n), "BENCH_OUT": str(out)}  # fmt: skip
            command = ["wrk", "-t1", "-c16", "-d600s", "-s", str(MINT_LUA), self.url]
            if self.client_cpu is not None:
                command = ["taskset", "-c", str(self.client_cpu), *command]
            wrk = await asyncio.create_subprocess_exec(
                *command, env=env, stdout=asyncio.subprocess.DEVNULL
            )
            # wrk runs for its whole duration even once its thread stopped: interrupt it.
            while wrk.returncode is None and _lines(out) < n:  # noqa: ASYNC110 (a file, polled)
                await asyncio.sleep(0.1)
            if wrk.returncode is None:
                wrk.send_signal(signal.SIGINT)
            await wrk.wait()
            codes = out.read_text().split()
        if len(codes) < n:
            raise SystemExit(f"/authorize minted {len(codes)} codes of {n}")
        return codes[:n]


def _lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


async def _sesame(env: dict[str, str], *argv: str) -> dict[str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "service.cli", *argv,
        env=env, cwd=env["BENCH_SERVER_ROOT"],
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"sesame {' '.join(argv)}: {err.decode()}")
    return dict(json.loads(out))


class NodeProvider(Target):
    @classmethod
    @asynccontextmanager
    async def start(cls, args: argparse.Namespace) -> AsyncIterator[NodeProvider]:
        if not all((NODE_DIR / "node_modules" / p).exists() for p in ("oidc-provider", "ioredis")):
            npm = await asyncio.create_subprocess_exec(
                "npm", "install", "--no-package-lock", "--no-audit", "--no-fund", "--silent",
                cwd=NODE_DIR,
            )  # fmt: skip
            if await npm.wait() != 0:
                raise SystemExit("npm install failed in bench/node")
        self = cls()
        port = free_port()
        self.url = f"http://localhost:{port}"
        self.client_id, self.secret = "bench", base64.urlsafe_b64encode(os.urandom(24)).decode()
        self.verifier, self.challenge = pkce_pair()
        self.client_credentials_body = "grant_type=client_credentials&scope=api"
        command = ["node", "provider.mjs", str(port), self.client_id, self.secret, REDIRECT,
                   self.challenge]  # fmt: skip
        if args.server_cpu is not None:
            command = ["taskset", "-c", str(args.server_cpu), *command]
        store = getattr(args, "node_store", "memory")
        proc = await asyncio.create_subprocess_exec(
            *command, cwd=NODE_DIR, stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "BENCH_NODE_STORE": store,
                 "BENCH_NODE_REDIS": os.environ.get("SESAME_TEST_REDIS", "redis://127.0.0.1:6379/0")},
        )  # fmt: skip
        try:
            assert proc.stdout is not None
            ready = await asyncio.wait_for(proc.stdout.readline(), 30)
            if not ready.startswith(b"ready"):
                raise SystemExit(f"oidc-provider did not start: {ready!r}")
            self.pid = proc.pid
            yield self
        finally:
            proc.terminate()
            await proc.wait()

    async def codes(self, n: int) -> list[str]:
        codes: list[str] = []
        async with httpx.AsyncClient(base_url=self.url, timeout=60) as client:
            while len(codes) < n:
                batch = min(1000, n - len(codes))
                r = await client.post(f"/bench/mint?n={batch}")
                r.raise_for_status()
                codes += r.text.split()
        return codes
