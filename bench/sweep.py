"""Housekeeping under load: seed expired sessions and spent grants, then run the code exchange
(bench/compare.py's, measured with wrk) without a sweep and while ``sesame prune`` clears them.

Prints the tables' sizes before and after, the plan of one batch's delete (an index range
scan), how long the sweep took, and requests/s and p50/p99 of the exchange in each phase: the
ratio of the sweep phase to the rounds without it (before and after) is the figure to read.
The sweep runs as ``sesame prune`` pinned to the server's core (what cron would run; the
background sweeper runs the same statements inside the server), and the sweep's rounds start
once its first batch is deleted. Nothing is asserted.

    .venv/bin/python -u bench/sweep.py --backend postgres --rows 1000000
    .venv/bin/python -u bench/sweep.py --backend embedded --rows 100000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.compare import line, measure, mint, timed  # noqa: E402
from bench.seed import run_sql, seed_expired  # noqa: E402
from bench.targets import Sesame  # noqa: E402

TABLES = ("sessions", "oauth_grants")
ROUNDS_PER_MINT = 6

BATCH_PLAN = {
    "sessions": "SELECT id FROM sessions WHERE expires_at < {now} ORDER BY expires_at LIMIT 1000",
    "oauth_grants": (
        "SELECT id FROM oauth_grants WHERE coalesce(refresh_expires_at, expires_at) < {now} "
        "ORDER BY coalesce(refresh_expires_at, expires_at) LIMIT 1000"
    ),
}


def file_mb(path: str) -> float:
    return os.path.getsize(path) / 2**20


class Database:
    """The server's database, opened beside it (asyncpg, or the SQLite file)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.postgres = url.startswith("postgresql")

    async def run(self, sql: str, *args: Any) -> list[Any]:
        return await run_sql(self.url, sql, *args)

    async def first_session(self) -> int:
        """The lowest id of a seeded session (the benchmark's own signed-in session is the
        first row): the sweep removes the oldest first, and equal times in id order, so this
        moves once the first batch is deleted."""
        return int((await self.run("SELECT id FROM sessions ORDER BY id LIMIT 1 OFFSET 1"))[0][0])

    async def sizes(self) -> str:
        parts = []
        for table in TABLES:
            (count,) = (await self.run(f"SELECT count(*) FROM {table}"))[0]  # noqa: S608
            if self.postgres:
                query = "SELECT pg_total_relation_size($1::regclass)"
                (size,) = (await self.run(query, table))[0]
                parts.append(f"{table} {count} rows {size / 2**20:.1f} MB")
            else:
                parts.append(f"{table} {count} rows")
        if not self.postgres:
            parts.append(f"database file {file_mb(self.url.split('///', 1)[1]):.1f} MB")
        return ", ".join(parts)

    async def plans(self) -> list[str]:
        now = "now()" if self.postgres else "strftime('%Y-%m-%d %H:%M:%f', 'now')"
        explain = "EXPLAIN" if self.postgres else "EXPLAIN QUERY PLAN"
        out = []
        for table, sql in BATCH_PLAN.items():
            rows = await self.run(f"{explain} {sql.format(now=now)}")
            out.append(f"{table}: " + " | ".join(str(r[-1]).strip() for r in rows))
        return out


async def prune(env: dict[str, str], cpu: int | None) -> tuple[float, str]:
    command = [sys.executable, "-m", "service.cli", "prune"]
    if cpu is not None:
        command = ["taskset", "-c", str(cpu), *command]
    started = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        *command, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await proc.communicate()
    return time.perf_counter() - started, out.decode().strip().splitlines()[-1]


async def run(args: argparse.Namespace) -> None:
    os.environ["SESAME_SWEEP_SECONDS"] = "0"  # the server's own sweeper stays out of the way
    async with Sesame.start(args) as target:
        db = Database(target.env["SESAME_DATABASE_URL"])
        started = time.perf_counter()
        await seed_expired(db.url, args.rows)
        print(f"seeded {args.rows} expired sessions and grants in "
              f"{time.perf_counter() - started:.0f} s")  # fmt: skip
        print("before:", await db.sizes())
        for plan in await db.plans():
            print("one batch's rows:", plan)
        quiet = []
        for _ in range(args.quiet_rounds):
            quiet.append(await measure(args, target, "code"))
            print(line("sesame", "code, no sweep", quiet[-1]), flush=True)
        env = {**target.env, "SESAME_SWEEP_BATCH": str(args.batch),
               "SESAME_SWEEP_PAUSE_RATIO": str(args.pause_ratio)}  # fmt: skip
        # Codes for several short rounds are minted first (they live a minute), then the sweep
        # starts and the rounds run back to back while it lasts.
        sweeping: asyncio.Task[tuple[float, str]] | None = None
        during = []
        while sweeping is None or not sweeping.done():
            items = await mint(args, target, "code", rounds=ROUNDS_PER_MINT)
            if sweeping is None:
                first = await db.first_session()
                sweeping = asyncio.create_task(prune(env, args.server_cpu))
                # Rounds start once the first batch is gone, not while the command starts
                # (importing the service costs seconds of CPU on the server's core, which the
                # background sweeper inside the server does not pay).
                while not sweeping.done() and await db.first_session() == first:  # noqa: ASYNC110 (the database, polled)
                    await asyncio.sleep(0.1)
            per_round = len(items) // ROUNDS_PER_MINT
            for k in range(ROUNDS_PER_MINT):
                if sweeping.done():
                    break
                r = await timed(args, target, "code", items[k * per_round : (k + 1) * per_round])
                if not sweeping.done():  # only rounds that ended with the sweep still running
                    during.append(r)
                    print(line("sesame", "code, sweeping", r), flush=True)
        seconds, said = await sweeping
        print(f"sweep: {seconds:.1f} s ({said})")
        print("after:", await db.sizes())
        for _ in range(args.quiet_rounds):  # the machine's drift weighs on both sides
            quiet.append(await measure(args, target, "code"))
            print(line("sesame", "code, no sweep", quiet[-1]), flush=True)
        if during:
            print(
                f"during the sweep / without it: requests/s {_rate(during) / _rate(quiet):.2f}x, "
                f"p99 {_p99(during):.1f} ms / {_p99(quiet):.1f} ms (median of the rounds)"
            )
        else:
            print("the sweep ended before a measured round did: more --rows, or less --duration")


def _rate(rounds: list[dict[str, Any]]) -> float:
    return statistics.mean(int(r["ok"]) / (int(r["duration_us"]) / 1e6) for r in rounds)


def _p99(rounds: list[dict[str, Any]]) -> float:
    return statistics.median(int(r["p99_us"]) / 1000 for r in rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--backend", choices=["postgres", "embedded"], default="postgres")
    parser.add_argument("--rows", type=int, default=1_000_000, help="of each table")
    parser.add_argument("--batch", type=int, default=1000, help="SESAME_SWEEP_BATCH")
    parser.add_argument("--pause-ratio", type=float, default=9.0, help="SESAME_SWEEP_PAUSE_RATIO")
    parser.add_argument("--quiet-rounds", type=int, default=3, help="before and after")
    parser.add_argument("--duration", type=int, default=2, help="seconds per measured round")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--expect", type=int, default=300, help="codes per second to mint")
    parser.add_argument("--server-cpu", type=int, default=0)
    parser.add_argument("--client-cpu", type=int, default=1)
    args = parser.parse_args()
    args.rate, args.server_root, args.workers, args.profile = None, None, 1, None
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
