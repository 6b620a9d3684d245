"""What one backend round trip costs the server's own CPU, on this machine.

The token endpoint and passkey sign-in persist what the CHECKLIST asks for (single-use codes
and challenges in the shared store, grants and sessions in the database): each request makes a
few round trips that an in-memory server (node-oidc-provider with a ``Map`` adapter, as
``compare.py`` runs it) does not. This prints, for each kind of round trip, the client
process's CPU time per call (``time.process_time``: user + kernel, which on loopback includes
the kernel's delivery of both directions) and the wall time, on uvloop as Sesame serves:

* a loopback TCP echo inside this process (the kernel's floor for a round trip);
* ``SELECT 1`` through asyncpg, and through Sesame's own hot path (``service.db.hot``: taking
  a kept connection, then the statement); the async engine's own checkout and checkin, and
  the hot path's, alone;
* a Redis ``GET`` through redis-py's client configured as Sesame configures it, then a ``GET``
  and an ``EVALSHA`` through the store (``service.store.redis``, single commands on kept
  connections: ``service.store.redis_hot``), and the same ``GET`` written as bare RESP on an
  asyncio protocol (what the client library itself costs above the kernel);
* one RS256 signature with ``cryptography`` (what each ID token and access token costs).

Nothing is asserted: it prints. Pin it like the server: ``taskset -c 0 .venv/bin/python
bench/round_trips.py``. Uses ``SESAME_TEST_POSTGRES`` and ``SESAME_TEST_REDIS`` (the test
suite's defaults: 127.0.0.1).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import uvloop
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from service.db import hot  # noqa: E402
from service.db.engine import Database  # noqa: E402
from service.store.redis import RedisStore  # noqa: E402
from tests.conftest import PG_ADMIN_URL, REDIS_URL  # noqa: E402

Call = Callable[[], Awaitable[object]]


async def measure(label: str, call: Call, count: int) -> None:
    for _ in range(min(200, count)):
        await call()
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(count):
        await call()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(f"  {label:58} CPU {cpu / count * 1e6:6.1f} us  wall {wall / count * 1e6:6.1f} us")


class Echo(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.transport.write(data)  # type: ignore[attr-defined]


class BareResp(asyncio.Protocol):
    """One command at a time; enough for a GET of a missing key (``$-1``) or an echo."""

    def __init__(self) -> None:
        self.waiting: asyncio.Future[bytes] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self.waiting is not None and data.endswith(b"\r\n"):
            self.waiting.set_result(data)
            self.waiting = None

    async def command(self, *parts: bytes) -> bytes:
        frame = b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)
        self.waiting = asyncio.get_running_loop().create_future()
        self.transport.write(frame)  # type: ignore[attr-defined]
        return await self.waiting


async def run(count: int) -> None:
    loop = asyncio.get_running_loop()
    print(f"{count} calls each, one after the other (client CPU per call, wall per call):")

    server = await loop.create_server(Echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    echo = BareResp()
    await loop.create_connection(lambda: echo, "127.0.0.1", port)
    await measure("loopback TCP echo, both ends in this process", lambda: echo.command(b"x"), count)
    server.close()

    pg = await asyncpg.connect(PG_ADMIN_URL)
    await measure("PostgreSQL SELECT 1, asyncpg", lambda: pg.fetchrow("SELECT 1"), count)
    await pg.close()
    db = Database(PG_ADMIN_URL.replace("postgresql://", "postgresql+asyncpg://"))
    select = hot.Statement("SELECT 1")

    async def through_hot_path() -> object:
        async with hot.connect(db) as conn:
            return await conn.execute(select)

    async def engine_checkout() -> None:
        async with db.engine.connect() as conn:
            await conn.get_raw_connection()

    async def hot_checkout() -> None:
        async with hot.connect(db):
            return None

    await measure("the async engine's checkout and checkin alone", engine_checkout, count)
    await measure("service.db.hot.connect alone (a kept connection)", hot_checkout, count)
    await measure("PostgreSQL SELECT 1 through service.db.hot", through_hot_path, count)
    await db.dispose()

    store = RedisStore.from_url(REDIS_URL, prefix="sesame-bench-round-trips:")
    client_get = lambda: store._redis.get("sesame-bench-round-trips:none")  # noqa: E731
    await measure("Redis GET, redis-py's client as configured by the store", client_get, count)
    await measure("Redis GET, the store (a kept connection)", lambda: store.get("none"), count)
    claim = lambda: store.claim("none", b"t", 1)  # noqa: E731 (an EVALSHA, the code's claim)
    await measure("Redis EVALSHA (the code claim script), the store", claim, count)
    await store.close()
    host, _, rest = REDIS_URL.removeprefix("redis://").partition(":")
    bare = BareResp()
    await loop.create_connection(lambda: bare, host, int(rest.split("/")[0] or 6379))
    bare_get = lambda: bare.command(b"GET", b"none")  # noqa: E731
    await measure("Redis GET, bare RESP on an asyncio protocol", bare_get, count)

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    payload = b"x" * 300

    async def sign() -> bytes:
        return key.sign(payload, padding.PKCS1v15(), hashes.SHA256())

    await measure("one RS256 signature (RSA-2048), cryptography", sign, min(count, 2000))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000)
    uvloop.run(run(parser.parse_args().count))


if __name__ == "__main__":
    main()
