"""A Sesame process for the benchmarks: a free port, and a fresh PostgreSQL database and Redis
key prefix (or the embedded default), removed afterwards."""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import socket
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN = os.environ.get("SESAME_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("SESAME_TEST_REDIS", "redis://127.0.0.1:6379/0")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pct(values: list[float], q: float) -> float:
    """The q-quantile in milliseconds."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def pg(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@asynccontextmanager
async def running_sesame(backend: str) -> AsyncIterator[tuple[str, dict[str, str]]]:
    """Yields the server URL and the environment that points ``sesame`` commands at it."""
    port = free_port()
    url = f"http://localhost:{port}"
    env = {
        **os.environ,
        "SESAME_ISSUER": url,
        "SESAME_PORT": str(port),
        "SESAME_DATA_DIR": tempfile.mkdtemp(prefix="sesame-bench-"),
        "SESAME_SECRET_KEY": secrets.token_urlsafe(32),
    }
    db_name = f"sesame_bench_{secrets.token_hex(4)}"
    if backend == "postgres":
        await pg(f'CREATE DATABASE "{db_name}"')
        base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        env["SESAME_DATABASE_URL"] = f"{base}/{db_name}"
        env["SESAME_REDIS_URL"] = REDIS
        env["SESAME_REDIS_PREFIX"] = f"sesame-bench-{db_name}:"
        migrate = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "service.cli", "migrate", env=env, cwd=ROOT,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        await migrate.wait()
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
        yield url, env
    finally:
        proc.terminate()
        await proc.wait()
        if backend == "postgres":
            await pg(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')


def parse_args(doc: str | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("--backend", choices=["postgres", "embedded"], default="postgres")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    return parser.parse_args()
