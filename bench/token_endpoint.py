"""Token endpoint throughput against a real Sesame process: code exchange and refresh.

Starts Sesame (PostgreSQL + Redis by default, or --backend embedded), registers a confidential
first-party client with ``sesame clients create``, signs up one user with a software
authenticator, mints --requests authorization codes through /authorize (not timed), then times
--requests code exchanges and --requests refreshes (each refresh token used once) from
--concurrency connections. Prints requests/s and p50/p99 latency. Nothing is asserted.

    .venv/bin/python bench/token_endpoint.py --requests 2000 --concurrency 16
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.server import parse_args, pct, running_sesame  # noqa: E402
from tests.factories import Browser  # noqa: E402
from tests.softauthn import SoftAuthenticator  # noqa: E402

REDIRECT = "https://bench.example/cb"


async def register_client(env: dict[str, str]) -> tuple[str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "service.cli", "clients", "create", "--name", "bench",
        "--first-party", "--redirect-uri", REDIRECT,
        env=env, cwd=env["BENCH_SERVER_ROOT"],
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    out, _ = await proc.communicate()
    found = json.loads(out)
    return found["client_id"], found["client_secret"]


async def mint_codes(url: str, client_id: str, n: int) -> list[str]:
    auth = SoftAuthenticator(origin=url)
    async with httpx.AsyncClient(base_url=url) as client:
        (await Browser(client).signup(auth)).raise_for_status()
        query = urlencode(
            {
                "response_type": "code",
                "client_id": client_id,
                "redirect_uri": REDIRECT,
                "scope": "openid profile email",
                "nonce": "n",
            }
        )
        codes = []
        for _ in range(n):
            response = await client.get(f"/authorize?{query}")
            codes.append(parse_qs(urlsplit(response.headers["location"]).query)["code"][0])
        return codes


async def timed(
    url: str,
    concurrency: int,
    items: list[str],
    call: Callable[[httpx.AsyncClient, str], Awaitable[httpx.Response]],
) -> tuple[list[float], float, list[httpx.Response]]:
    queue = list(items)
    times: list[float] = []
    responses: list[httpx.Response] = []

    async def worker() -> None:
        async with httpx.AsyncClient(base_url=url, limits=httpx.Limits(max_connections=1)) as c:
            while queue:
                item = queue.pop()
                t0 = time.perf_counter()
                response = await call(c, item)
                times.append(time.perf_counter() - t0)
                if response.status_code != 200:
                    raise SystemExit(
                        f"token request failed: {response.status_code} {response.text}"
                    )
                responses.append(response)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return times, time.perf_counter() - started, responses


def report(name: str, times: list[float], elapsed: float) -> None:
    print(
        f"  {name}: {len(times) / elapsed:8.1f}/s  p50 {pct(times, 0.5):6.2f} ms  "
        f"p99 {pct(times, 0.99):6.2f} ms  mean {statistics.mean(times) * 1000:6.2f} ms"
    )


async def run(args: argparse.Namespace) -> None:
    async with running_sesame(args.backend, args) as (url, env):
        client_id, secret = await register_client(env)
        basic = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        headers = {"Authorization": basic}
        codes = await mint_codes(url, client_id, args.requests)

        async def exchange(c: httpx.AsyncClient, code: str) -> httpx.Response:
            data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
            return await c.post("/token", data=data, headers=headers)

        async def refresh(c: httpx.AsyncClient, token: str) -> httpx.Response:
            data = {"grant_type": "refresh_token", "refresh_token": token}
            return await c.post("/token", data=data, headers=headers)

        ex_times, ex_elapsed, responses = await timed(url, args.concurrency, codes, exchange)
        tokens = [r.json()["refresh_token"] for r in responses]
        rf_times, rf_elapsed, _ = await timed(url, args.concurrency, tokens, refresh)
    print(f"backend={args.backend} requests={args.requests} concurrency={args.concurrency}")
    report("code exchange", ex_times, ex_elapsed)
    report("refresh      ", rf_times, rf_elapsed)


def main() -> None:
    asyncio.run(run(parse_args(__doc__)))


if __name__ == "__main__":
    main()
