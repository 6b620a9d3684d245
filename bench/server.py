"""A Sesame process for the benchmarks: a fresh PostgreSQL database and Redis key prefix (or
the embedded default), the same as the tests use, removed afterwards with the server's data
directory (kept, and named, when the run fails)."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from tests.conftest import fresh_backend
from tests.processes import ROOT, free_port, serve


def pct(values: list[float], q: float) -> float:
    """The q-quantile in milliseconds."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def cpu_set(cpus: int | str) -> set[int]:
    """A core (``1``) or a list as ``taskset -c`` takes it (``0,1`` or ``0-1``) as a set."""
    chosen: set[int] = set()
    for part in str(cpus).split(","):
        first, _, last = part.partition("-")
        chosen.update(range(int(first), int(last or first) + 1))
    return chosen


@asynccontextmanager
async def running_sesame(
    kind: str, args: argparse.Namespace | None = None
) -> AsyncIterator[tuple[str, dict[str, str]]]:
    """Yields the server URL and the environment that points ``sesame`` commands at it. With
    ``--server-cpu`` / ``--client-cpu`` the server and this load generator are pinned to one
    core each; ``--server-root`` runs the server from another checkout (an older revision),
    so two revisions can be compared side by side in one run."""
    data_dir = Path(tempfile.mkdtemp(prefix="sesame-bench-"))
    try:
        async with _sesame_in(data_dir, kind, args) as running:
            yield running
    except BaseException:
        # Kept for a look at what went wrong: the server's log (and the embedded database).
        print(f"bench: the server's data and log are kept in {data_dir}", file=sys.stderr)
        raise
    shutil.rmtree(data_dir, ignore_errors=True)


@asynccontextmanager
async def _sesame_in(
    data_dir: Path, kind: str, args: argparse.Namespace | None
) -> AsyncIterator[tuple[str, dict[str, str]]]:
    if args is not None and args.client_cpu is not None:
        os.sched_setaffinity(0, cpu_set(args.client_cpu))
    root = Path(args.server_root) if args is not None and args.server_root else ROOT
    # A server of another revision brings the schema to its own head as it starts (the
    # development default), so its database is not migrated here with this checkout's code.
    with fresh_backend(kind, data_dir, migrate=root == ROOT) as backend:
        port = free_port()
        url = f"http://localhost:{port}"
        env = {**os.environ, **backend.env(), "SESAME_ISSUER": url, "SESAME_PORT": str(port)}
        # Every simulated person comes from this one address: the per-address ceremony budget
        # (meant for people, not a load generator) is lifted.
        env.setdefault("SESAME_CEREMONY_RATE_PER_IP", "100000000")
        # ``sesame`` commands against this server must be of its revision: run them from here.
        env["BENCH_SERVER_ROOT"] = str(root)
        async with serve(env, url, data_dir / "sesame.log", cwd=root) as proc:
            if args is not None and args.server_cpu is not None:
                os.sched_setaffinity(proc.pid, cpu_set(args.server_cpu))
            env["BENCH_SERVER_PID"] = str(proc.pid)
            yield url, env


def parse_args(doc: str | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("--backend", choices=["postgres", "embedded"], default="postgres")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--server-cpu", type=int, default=None, help="pin the server to a core")
    parser.add_argument("--client-cpu", type=int, default=None, help="pin this client to a core")
    parser.add_argument("--server-root", default=None, help="run the server from this checkout")
    parser.add_argument("--credentials", type=int, default=0, help="passkeys to seed first")
    parser.add_argument("--rate", type=float, default=None, help="fixed rate (sign-ins/s)")
    return parser.parse_args()
