"""Real Sesame processes for tests and benchmarks: a free port, and ``sesame serve`` started
and awaited without blocking the event loop (fault proxies in the caller's loop keep working)."""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def serve(
    env: dict[str, str], url: str, log_path: Path, cwd: Path = ROOT, log_level: str = "warning"
) -> AsyncIterator[asyncio.subprocess.Process]:
    """``sesame serve`` with ``env``, ready once ``url``/healthz answers; stopped afterwards
    (unless the caller already stopped it)."""
    log = log_path.open("w")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "service.cli", "serve", "--log-level", log_level,
        env=env, cwd=cwd, stdout=log, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        async with httpx.AsyncClient(base_url=url) as probe:
            for _ in range(300):
                try:
                    if (await probe.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            else:
                raise RuntimeError(log_path.read_text())  # noqa: ASYNC240 (failure path)
        yield proc
    finally:
        if proc.returncode is None:
            proc.terminate()
        await proc.wait()
        log.close()
