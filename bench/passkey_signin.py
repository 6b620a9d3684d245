"""Passkey sign-in throughput against a real Sesame process.

Starts Sesame on a free port (PostgreSQL + Redis by default, each in a fresh database / key
prefix, or the embedded default with --backend embedded), signs up one user with a software
authenticator, then runs --requests complete sign-ins (begin + finish) from --concurrency
browsers and prints requests/s and p50/p99 latency of each step. Nothing is asserted: it prints.

    .venv/bin/python bench/passkey_signin.py --requests 2000 --concurrency 16
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.factories import Browser  # noqa: E402
from tests.softauthn import SoftAuthenticator  # noqa: E402

PG_ADMIN = os.environ.get("SESAME_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("SESAME_TEST_REDIS", "redis://127.0.0.1:6379/0")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def pg(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def run(args: argparse.Namespace) -> None:
    port = free_port()
    url = f"http://localhost:{port}"
    data_dir = tempfile.mkdtemp(prefix="sesame-bench-")
    env = {
        **os.environ,
        "SESAME_ISSUER": url,
        "SESAME_PORT": str(port),
        "SESAME_DATA_DIR": data_dir,
        "SESAME_SECRET_KEY": secrets.token_urlsafe(32),
    }
    db_name = f"sesame_bench_{secrets.token_hex(4)}"
    if args.backend == "postgres":
        await pg(f'CREATE DATABASE "{db_name}"')
        base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        env["SESAME_DATABASE_URL"] = f"{base}/{db_name}"
        env["SESAME_REDIS_URL"] = REDIS
        env["SESAME_REDIS_PREFIX"] = f"sesame-bench-{db_name}:"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "service.cli", "serve", "--log-level", "warning", env=env, cwd=ROOT
    )
    try:
        async with httpx.AsyncClient(base_url=url) as probe:
            for _ in range(300):
                try:
                    if (await probe.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
        await bench(url, args)
    finally:
        proc.terminate()
        await proc.wait()
        if args.backend == "postgres":
            await pg(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')


async def bench(url: str, args: argparse.Namespace) -> None:
    auth = SoftAuthenticator(origin=url, backup_eligible=True, backed_up=True)
    async with httpx.AsyncClient(base_url=url) as client:
        signup = await Browser(client).signup(auth)
        signup.raise_for_status()
    begin_times: list[float] = []
    finish_times: list[float] = []
    remaining = args.requests

    async def browser_loop() -> None:
        nonlocal remaining
        limits = httpx.Limits(max_connections=1)
        async with httpx.AsyncClient(base_url=url, limits=limits) as client:
            browser = Browser(client)
            await browser.csrf()
            while remaining > 0:
                remaining -= 1
                t0 = time.perf_counter()
                options = await browser.begin_signin()
                t1 = time.perf_counter()
                credential = auth.get(options["publicKey"])
                t2 = time.perf_counter()
                done = await browser.post(
                    "/signin/finish", {"ceremony": options["ceremony"], "credential": credential}
                )
                t3 = time.perf_counter()
                if done.status_code != 200:
                    raise SystemExit(f"sign-in failed: {done.status_code} {done.text}")
                begin_times.append(t1 - t0)
                finish_times.append(t3 - t2)

    started = time.perf_counter()
    await asyncio.gather(*(browser_loop() for _ in range(args.concurrency)))
    elapsed = time.perf_counter() - started
    n = len(finish_times)
    print(
        f"backend={args.backend} sign-ins={n} concurrency={args.concurrency} elapsed={elapsed:.2f}s"
    )
    print(f"  complete sign-ins: {n / elapsed:8.1f}/s (begin + finish, client signing included)")
    for name, values in (("begin ", begin_times), ("finish", finish_times)):
        print(
            f"  {name}: p50 {pct(values, 0.50):6.2f} ms  p99 {pct(values, 0.99):6.2f} ms  "
            f"mean {statistics.mean(values) * 1000:6.2f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["postgres", "embedded"], default="postgres")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
