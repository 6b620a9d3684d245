"""Passkey sign-in throughput against a real Sesame process.

Starts Sesame on a free port (PostgreSQL + Redis by default, each in a fresh database / key
prefix, or the embedded default with --backend embedded), signs up one user with a software
authenticator, then runs --requests complete sign-ins (begin + finish) from --concurrency
browsers and prints requests/s and p50/p99 latency of each step. Nothing is asserted: it prints.

``--credentials N`` first fills the passkey table with N other people's passkeys (one account
each), so the lookup runs against a table of that size. The server's own CPU time per sign-in
is printed too: on this 2-core machine the load generator (its ECDSA signing and HTTP) shares
the cores, so ``1000 / server CPU ms`` is what one server core could sustain.

    .venv/bin/python bench/passkey_signin.py --requests 2000 --concurrency 16 --credentials 1000000
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.seed import seed_credentials  # noqa: E402
from bench.server import parse_args, pct, running_sesame  # noqa: E402
from bench.targets import cpu_seconds, rss_mb  # noqa: E402
from tests.factories import Browser  # noqa: E402
from tests.softauthn import SoftAuthenticator  # noqa: E402


async def run(args: argparse.Namespace) -> None:
    async with running_sesame(args.backend, args) as (url, env):
        if args.credentials:
            started = time.perf_counter()
            await seed_credentials(env["SESAME_DATABASE_URL"], args.credentials)
            print(f"seeded {args.credentials} passkeys in {time.perf_counter() - started:.1f}s")
        pid = int(env["BENCH_SERVER_PID"])
        cpu = cpu_seconds(pid)
        await bench(url, args)
        cpu = cpu_seconds(pid) - cpu
        print(
            f"  server CPU per sign-in (page + begin + finish): {cpu * 1000 / args.requests:.2f} ms"
            f" = {args.requests / cpu:.0f} sign-ins/s per server core;"
            f" RSS {rss_mb(pid):.0f} MB"
        )
        await server_side(url)
        # The page alone, the same number of times from the same browsers, to price begin +
        # finish (the target) as the difference.
        page_cpu = cpu_seconds(pid)
        await pages(url, args)
        page_cpu = cpu_seconds(pid) - page_cpu
        ceremony = max(cpu - page_cpu, 1e-9)
        print(
            f"  server CPU of the sign-in page alone: {page_cpu * 1000 / args.requests:.2f} ms;"
            f" begin + finish: {ceremony * 1000 / args.requests:.2f} ms"
            f" = {args.requests / ceremony:.0f} sign-ins/s per server core"
        )


async def bench(url: str, args: argparse.Namespace) -> None:
    auth = SoftAuthenticator(origin=url, backup_eligible=True, backed_up=True)
    async with httpx.AsyncClient(base_url=url) as client:
        signup = await Browser(client).signup(auth)
        signup.raise_for_status()
    begin_times: list[float] = []
    finish_times: list[float] = []
    remaining = args.requests

    # --rate: each browser starts a sign-in every concurrency/rate seconds (fixed-rate load).
    interval = args.concurrency / args.rate if args.rate else 0.0

    async def browser_loop(index: int) -> None:
        nonlocal remaining
        limits = httpx.Limits(max_connections=1)
        async with httpx.AsyncClient(base_url=url, limits=limits) as client:
            # Browsers staggered over one interval, so that a fixed rate is a steady arrival of
            # sign-ins and not a burst of all of them at once.
            next_start = time.perf_counter() + index * interval / args.concurrency
            while remaining > 0:
                remaining -= 1
                if interval:
                    await asyncio.sleep(max(0.0, next_start - time.perf_counter()))
                    next_start += interval
                # A browser arriving at the sign-in page each time (a sign-in rotates the
                # browser id, so a page from before it would not do): page, begin, finish.
                client.cookies.clear()
                browser = Browser(client)
                await browser.csrf()
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
    await asyncio.gather(*(browser_loop(n) for n in range(args.concurrency)))
    elapsed = time.perf_counter() - started
    n = len(finish_times)
    print(
        f"backend={args.backend} sign-ins={n} concurrency={args.concurrency} elapsed={elapsed:.2f}s"
    )
    print(
        f"  complete sign-ins: {n / elapsed:8.1f}/s "
        "(sign-in page, begin, finish; client signing included)"
    )
    for name, values in (("begin ", begin_times), ("finish", finish_times)):
        print(
            f"  {name}: p50 {pct(values, 0.50):6.2f} ms  p99 {pct(values, 0.99):6.2f} ms  "
            f"mean {statistics.mean(values) * 1000:6.2f} ms"
        )


async def server_side(url: str) -> None:
    """The server's own latency histogram (/metrics): what share of begins and finishes it
    answered within 10 and 25 ms, apart from the load generator's own delays."""
    async with httpx.AsyncClient(base_url=url) as client:
        text = (await client.get("/metrics")).text
    buckets: dict[tuple[str, str], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "sesame_http_request_duration_seconds_bucket":
                key = (sample.labels["route"], sample.labels["le"])
                buckets[key] = buckets.get(key, 0.0) + sample.value
    for route in ("/signin/begin", "/signin/finish"):
        total = buckets.get((route, "+Inf"), 0.0)
        if total:
            within = [f"{buckets[(route, le)] * 100 / total:.2f} %" for le in ("0.01", "0.025")]
            print(f"  server side, {route}: within 10 ms {within[0]}, within 25 ms {within[1]}")


async def pages(url: str, args: argparse.Namespace) -> None:
    """Only the sign-in page, as each sign-in above fetched it (a new browser each time)."""
    remaining = args.requests

    async def page_loop() -> None:
        nonlocal remaining
        limits = httpx.Limits(max_connections=1)
        async with httpx.AsyncClient(base_url=url, limits=limits) as client:
            while remaining > 0:
                remaining -= 1
                client.cookies.clear()
                await Browser(client).csrf()

    await asyncio.gather(*(page_loop() for _ in range(args.concurrency)))


def main() -> None:
    asyncio.run(run(parse_args(__doc__)))


if __name__ == "__main__":
    main()
