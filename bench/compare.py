"""Sesame against node-oidc-provider 9, side by side in one run, measured with wrk.

The same exchange on both: a confidential client with client_secret_basic, PKCE S256, an RS256
ID token, an RS256 JWT access token and a rotated refresh token (``--grant code``); the refresh
of such a token (``refresh``); and ``client_credentials`` for an API's scope. Each server is
pinned to ``--server-cpu`` and wrk to ``--client-cpu``; rounds alternate the order (S N, N S,
...) so the shared machine's drift weighs on both. Single-use items (codes, refresh tokens) are
minted before each timed run, not timed, more than the run can use; a run that runs out is void.

Prints requests/s, p50/p99 and every non-200 answer per run, then the ratio of the sums
(Sesame / node-oidc-provider) per grant. ``--rate R`` paces the connections at about R
requests/s in all (for the p99 at a fixed load). ``--node-store redis`` gives
node-oidc-provider a Redis store (``node/redis_adapter.mjs``) instead of the issue's unbounded
in-memory ``Map``: both servers then keep what they issue outside the process. Nothing is
asserted.

    .venv/bin/python bench/compare.py --backend postgres --grant code --duration 10 --rounds 2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.targets import NodeProvider, Sesame, Target  # noqa: E402

GRANT_CHOICES = ("code", "refresh", "client_credentials")
LUA = ROOT / "bench" / "wrk" / "token.lua"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--backend", choices=["postgres", "embedded"], default="postgres")
    parser.add_argument("--grant", choices=GRANT_CHOICES, action="append")
    parser.add_argument("--duration", type=int, default=10, help="seconds per timed run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--rate", type=float, default=None, help="paced mode: requests/s in all")
    parser.add_argument("--expect", type=int, default=1500, help="items per second to mint")
    parser.add_argument("--only", choices=["sesame", "node"], default=None)
    cpus = "a core or a list as taskset -c takes it (0,1), for several workers"
    parser.add_argument("--server-cpu", default="0", help=cpus)
    parser.add_argument("--client-cpu", default="1", help=cpus)
    parser.add_argument("--server-root", default=None, help="serve Sesame from this checkout")
    parser.add_argument("--workers", type=int, default=1, help="SESAME_WORKERS")
    parser.add_argument(
        "--node-store", choices=["memory", "redis"], default="memory",
        help="node-oidc-provider's store: an unbounded Map (the issue's comparison) or Redis",
    )  # fmt: skip
    parser.add_argument(
        "--profile", default=None, metavar="DIR",
        help="record Sesame's timed runs with py-spy (collapsed stacks, one file per grant)",
    )  # fmt: skip
    return parser.parse_args()


def wrk(args: argparse.Namespace, url: str, env: dict[str, str]) -> dict[str, object]:
    command = [
        "wrk", "-t1", f"-c{args.connections}", f"-d{args.duration}s", "--timeout", "10s",
        "-s", str(LUA), url,
    ]  # fmt: skip
    if args.client_cpu is not None:
        command = ["taskset", "-c", str(args.client_cpu), *command]
    done = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True)
    for line in done.stdout.splitlines():
        if line.startswith("BENCH "):
            return dict(json.loads(line[6:]))
    raise SystemExit(f"wrk said nothing usable:\n{done.stdout}\n{done.stderr}")


async def measure(args: argparse.Namespace, target: Target, grant: str) -> dict[str, object]:
    return await timed(args, target, grant, await mint(args, target, grant))


async def mint(args: argparse.Namespace, target: Target, grant: str, rounds: int = 1) -> list[str]:
    """The single-use items ``rounds`` timed runs can use (not timed)."""
    if grant == "client_credentials":
        return []
    paced = args.rate is not None
    per_round = int((args.rate if paced else args.expect) * args.duration * 1.2) + 200
    return await target.items(grant, per_round * rounds)


async def timed(
    args: argparse.Namespace, target: Target, grant: str, items: list[str]
) -> dict[str, object]:
    """One wrk run of ``args.duration`` seconds using ``items``; the server's CPU and RSS."""
    paced = args.rate is not None
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("\n".join(items) + ("\n" if items else ""))
    env = {
        "BENCH_ITEMS": f.name if items else "",
        "BENCH_BODY": target.body(grant),
        "BENCH_AUTH": target.authorization,
        "BENCH_DELAY_MS": str(int(args.connections * 1000 / args.rate)) if paced else "0",
    }
    spy = profiler(args, target, grant)
    try:
        cpu = target.cpu_seconds()
        result = await asyncio.to_thread(wrk, args, target.url, env)
        cpu = target.cpu_seconds() - cpu
    finally:
        os.unlink(f.name)
        if spy is not None:
            spy.wait()
    # The server's own CPU time per answered request: steadier than requests/s on a shared
    # machine, and what a faster hot path lowers.
    result["cpu_ms"] = cpu * 1000 / max(1, int(result["requests"]))  # type: ignore[call-overload]
    result["rss_mb"] = target.rss_mb()
    return result


def profiler(
    args: argparse.Namespace, target: Target, grant: str
) -> subprocess.Popen[bytes] | None:
    """py-spy sampling Sesame's process for the timed run (``--profile DIR``), or None."""
    if args.profile is None or not isinstance(target, Sesame):
        return None
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    Path(args.profile).mkdir(parents=True, exist_ok=True)
    out = Path(args.profile) / f"{args.backend}-{grant}.txt"
    command = [
        spy, "record", "--pid", str(target.pid), "--duration", str(args.duration),
        "--rate", "500", "--format", "raw", "--nonblocking", "--subprocesses", "-o", str(out),
    ]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@asynccontextmanager
async def started(name: str, args: argparse.Namespace) -> AsyncIterator[Target]:
    if name == "sesame":
        async with Sesame.start(args) as sesame:
            yield sesame
    else:
        async with NodeProvider.start(args) as node:
            yield node


def line(name: str, grant: str, r: dict[str, object]) -> str:
    seconds = int(r["duration_us"]) / 1e6  # type: ignore[call-overload]
    rate = int(r["ok"]) / seconds  # type: ignore[call-overload]
    note = " VOID: ran out of items, raise --expect" if r["exhausted"] else ""
    if r["first_bad"]:
        note += f" first non-200: {r['first_bad']}"
    return (
        f"  {name:7} {grant:18} {rate:8.1f}/s  p50 {int(r['p50_us']) / 1000:6.2f} ms"  # type: ignore[call-overload]
        f"  p99 {int(r['p99_us']) / 1000:6.2f} ms  non-200 {r['non200']}"
        f"  socket errors {r['socket_errors']}  server CPU {r['cpu_ms']:.2f} ms/request"
        f"  RSS {r['rss_mb']:.0f} MB{note}"
    )


async def run(args: argparse.Namespace) -> None:
    grants = args.grant or ["code"]
    sides = [args.only] if args.only else ["sesame", "node"]
    totals: dict[tuple[str, str], list[float]] = defaultdict(list)
    print(
        f"backend={args.backend} connections={args.connections} duration={args.duration}s "
        f"rounds={args.rounds} rate={args.rate or 'max'} cpus: server {args.server_cpu}, "
        f"wrk {args.client_cpu}; {os.cpu_count()} cores; node-oidc-provider's store: "
        f"{args.node_store}"
    )
    for round_no in range(args.rounds):
        order = sides if round_no % 2 == 0 else list(reversed(sides))
        print(f"== round {round_no + 1}: {' then '.join(order)}")
        for name in order:
            async with started(name, args) as target:
                for grant in grants:
                    r = await measure(args, target, grant)
                    print(line(name, grant, r), flush=True)
                    valid = not r["exhausted"]
                    seconds = int(r["duration_us"]) / 1e6  # type: ignore[call-overload]
                    if valid:
                        totals[(name, grant)].append(int(r["ok"]) / seconds)  # type: ignore[call-overload]
    if len(sides) == 2:
        for grant in grants:
            s, n = sum(totals[("sesame", grant)]), sum(totals[("node", grant)])
            if s and n:
                print(f"ratio sesame/node-oidc-provider, {grant}: {s / n:.2f}")


def main() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install -y wrk)")
    asyncio.run(run(parse_args()))


if __name__ == "__main__":
    main()
