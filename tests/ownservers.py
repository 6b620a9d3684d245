"""PostgreSQL and Redis servers of a test's own (own data directory, own port), which the test
may restart at will: the machine's shared servers are never touched. Used by the outage drill
(tests/e2e/test_outages.py)."""

from __future__ import annotations

import asyncio
import glob
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import redis

from tests.conftest import unavailable
from tests.processes import free_port


def _as_postgres(argv: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root; CI and sessions here are root.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *argv]
    return argv


class OwnPostgres:
    def __init__(self) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not found:
            unavailable("PostgreSQL server binaries", "apt-get install postgresql")
        self.bin = Path(found[-1]).parent
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="sesame-pg-", dir="/tmp"))
        self.data = self.dir / "data"
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/sesame"

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            _as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.data), *args]),
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip

    def start(self) -> None:
        if not self.data.exists():
            subprocess.run(
                _as_postgres([
                    str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres",
                    "--auth=trust", "--no-sync", "-E", "UTF8",
                ]),
                check=True, capture_output=True, timeout=120,
            )  # fmt: skip
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c max_connections=100"
        )
        self._ctl("-o", options, "-l", str(self.dir / "log"), "-w", "start")
        subprocess.run(
            _as_postgres([str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                          "-U", "postgres", "sesame"]),
            check=False, capture_output=True, timeout=30,
        )  # fmt: skip

    async def restart(self) -> None:
        """``pg_ctl restart -m fast``: connections are cut, the server is gone for a moment."""
        log = str(self.dir / "log")
        await asyncio.to_thread(self._ctl, "-m", "fast", "-l", log, "-w", "restart")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._ctl("-m", "immediate", "-w", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)


class OwnRedis:
    def __init__(self) -> None:
        if not shutil.which("redis-server"):
            unavailable("redis-server", "apt-get install redis-server")
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="sesame-redis-"))
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", str(self.dir),
            ],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        for _ in range(100):
            try:
                if client.ping():
                    return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError("own redis-server did not start")

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None

    async def restart(self, down_seconds: float) -> None:
        """Stopped, away for ``down_seconds``, started again (empty: no persistence)."""
        await asyncio.to_thread(self.kill)
        await asyncio.sleep(down_seconds)
        await asyncio.to_thread(self.start)

    def stop(self) -> None:
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)
