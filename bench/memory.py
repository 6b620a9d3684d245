"""Memory of one Sesame worker: resident memory once started (after one sign-up) and idle, then
after --requests requests of a mix (discovery, JWKS, the sign-in page, health, and
client_credentials token requests that sign a JWT and write a grant), and the growth. Runs wrk
in 30-second rounds and prints the RSS after each. Nothing is asserted.

    .venv/bin/python bench/memory.py --requests 1000000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.targets import Sesame, rss_mb  # noqa: E402

LUA = ROOT / "bench" / "wrk" / "mix.lua"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--backend", choices=["postgres", "embedded"], default="postgres")
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--round-seconds", type=int, default=30)
    parser.add_argument("--server-cpu", type=int, default=0)
    parser.add_argument("--client-cpu", type=int, default=1)
    parser.add_argument("--server-root", default=None)
    parser.add_argument("--workers", type=int, default=1)
    return parser.parse_args()


def wrk_round(url: str, mix: str, seconds: int, cpu: int | None) -> dict[str, int]:
    command = ["wrk", "-t1", "-c16", f"-d{seconds}s", "-s", str(LUA), url]
    if cpu is not None:
        command = ["taskset", "-c", str(cpu), *command]
    done = subprocess.run(
        command, env={**os.environ, "BENCH_MIX": mix}, capture_output=True, text=True
    )
    for line in done.stdout.splitlines():
        if line.startswith("BENCH "):
            return dict(json.loads(line[6:]))
    raise SystemExit(f"wrk said nothing usable:\n{done.stdout}\n{done.stderr}")


async def run(args: argparse.Namespace) -> None:
    async with Sesame.start(args) as sesame:
        await asyncio.sleep(2)
        idle = rss_mb(sesame.pid)
        print(f"backend={args.backend}: idle after start and one sign-up: RSS {idle:.1f} MB")
        mix = "\n".join(
            [
                "GET\t/.well-known/openid-configuration\t\t",
                "GET\t/jwks.json\t\t",
                "GET\t/signin\t\t",
                "GET\t/healthz\t\t",
                f"POST\t/token\t{sesame.authorization}\t{sesame.body('client_credentials')}",
            ]
        )
        done = non200 = 0
        while done < args.requests:
            r = await asyncio.to_thread(
                wrk_round, sesame.url, mix, args.round_seconds, args.client_cpu
            )
            done += r["requests"]
            non200 += r["non200"]
            note = f" first non-200: {r['first_bad']}" if r["first_bad"] else ""
            print(
                f"  {done:>9} requests ({r['requests'] * 1e6 / r['duration_us']:.0f}/s), "
                f"non-200 {non200}: RSS {rss_mb(sesame.pid):.1f} MB{note}",
                flush=True,
            )
        after = rss_mb(sesame.pid)
        print(f"after {done} requests: RSS {after:.1f} MB ({(after / idle - 1) * 100:+.1f} %)")


def main() -> None:
    asyncio.run(run(parse_args()))


if __name__ == "__main__":
    main()
