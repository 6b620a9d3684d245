"""Test backends: every test that asks for ``backend`` runs on the embedded default
(SQLite + in-process store) and on PostgreSQL + Redis, each in its own database / key prefix.

Outside CI a missing PostgreSQL, Redis or Chromium skips those tests with a message saying how to
enable them; with CI=true it fails instead, so CI always runs everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.app import create_app
from service.clock import FrozenClock
from service.db.migrate import upgrade
from service.settings import Settings

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
PG_ADMIN_URL = os.environ.get("SESAME_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("SESAME_TEST_REDIS", "redis://127.0.0.1:6379/0")
SECRET = "test-secret-key-" + "x" * 32


def unavailable(what: str, how: str) -> None:
    message = f"{what} is not available: {how}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: every backend must run)")
    pytest.skip(message)


def run_sync(coro: Any) -> Any:
    """Run a coroutine to completion in a fresh thread (safe while a test loop is running)."""
    result: dict[str, Any] = {}

    def target() -> None:
        try:
            result["value"] = asyncio.run(coro)
        except BaseException as exc:
            result["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result.get("value")


async def _pg(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL, timeout=3)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _redis_ping() -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await client.ping()
    finally:
        await client.aclose()


async def _redis_clear(prefix: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS_URL)
    try:
        async for key in client.scan_iter(match=f"{prefix}*"):
            await client.delete(key)
    finally:
        await client.aclose()


@dataclass(frozen=True)
class Backend:
    name: str
    database_url: str
    redis_url: str | None
    redis_prefix: str
    data_dir: Path

    def settings(self, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": self.database_url,
            "redis_url": self.redis_url,
            "redis_prefix": self.redis_prefix,
            "data_dir": self.data_dir,
            "secret_key": SECRET,
            # Every test client is 127.0.0.1 and the suite shares one Redis prefix per
            # backend: the per-address budgets are lifted (their own tests set them).
            "ceremony_rate_per_ip": CEREMONY_BUDGET,
            "client_auth_failures_per_ip": CEREMONY_BUDGET,
            "admin_failures_per_ip": CEREMONY_BUDGET,
        }
        values.update(overrides)
        return Settings(**values)

    def env(self) -> dict[str, str]:
        env = {
            "SESAME_DATABASE_URL": self.database_url,
            "SESAME_REDIS_PREFIX": self.redis_prefix,
            "SESAME_DATA_DIR": str(self.data_dir),
            "SESAME_SECRET_KEY": SECRET,
            "SESAME_CEREMONY_RATE_PER_IP": str(CEREMONY_BUDGET),
            "SESAME_CLIENT_AUTH_FAILURES_PER_IP": str(CEREMONY_BUDGET),
            "SESAME_ADMIN_FAILURES_PER_IP": str(CEREMONY_BUDGET),
        }
        if self.redis_url:
            env["SESAME_REDIS_URL"] = self.redis_url
        return env


def require_postgres_and_redis() -> None:
    try:
        run_sync(_pg("SELECT 1"))
    except Exception as exc:
        unavailable(
            f"PostgreSQL at {PG_ADMIN_URL} ({exc.__class__.__name__})",
            "start it (pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start) "
            "or point SESAME_TEST_POSTGRES at one",
        )
    require_redis()


def require_redis() -> None:
    try:
        run_sync(_redis_ping())
    except Exception as exc:
        unavailable(
            f"Redis at {REDIS_URL} ({exc.__class__.__name__})",
            "start it (redis-server --daemonize yes) or point SESAME_TEST_REDIS at one",
        )


@contextlib.contextmanager
def fresh_backend(kind: str, data_dir: Path, *, migrate: bool = True) -> Iterator[Backend]:
    """A migrated database and a Redis key prefix of its own, removed afterwards. Without
    ``migrate`` the database is left empty (a server of another revision migrates it itself)."""
    run_id = secrets.token_hex(4)
    if kind == "embedded":
        found = Backend(
            "embedded",
            f"sqlite+aiosqlite:///{data_dir / f'sesame-{run_id}.db'}",
            None,
            f"sesame-test-{run_id}:",
            data_dir,
        )
        if migrate:
            run_sync_upgrade(found.database_url)
        yield found
        return
    require_postgres_and_redis()
    db_name = f"sesame_test_{run_id}"
    run_sync(_pg(f'CREATE DATABASE "{db_name}"'))
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    found = Backend("postgres", f"{base}/{db_name}", REDIS_URL, f"sesame-test-{run_id}:", data_dir)
    try:
        if migrate:
            run_sync_upgrade(found.database_url)
        yield found
    finally:
        run_sync(_redis_clear(found.redis_prefix))
        run_sync(_pg(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))


@pytest.fixture(scope="session", params=["embedded", "postgres"])
def backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Backend]:
    with fresh_backend(request.param, tmp_path_factory.mktemp(f"sesame-{request.param}")) as found:
        yield found


def run_in_thread(work: Any) -> None:
    """Blocking work that runs an event loop of its own (Alembic's env does) off the test's
    loop; its exception is raised here."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            work()
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def run_sync_upgrade(database_url: str) -> None:
    run_in_thread(lambda: upgrade(database_url))


@pytest.fixture
def clock() -> FrozenClock:
    """Frozen at the real time, so relying-party libraries that check ``exp`` and ``iat``
    against the wall clock accept the tokens."""
    return FrozenClock(datetime.now(UTC))


CEREMONY_BUDGET = 1_000_000


def asgi_client(app: Any, base_url: str = "http://localhost:8000") -> httpx.AsyncClient:
    """A browser-like client (its own cookies) talking to ``app`` in process."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url)


@pytest.fixture
async def make_app(backend: Backend, clock: FrozenClock) -> AsyncIterator[Any]:
    """Builds apps on this backend with settings overrides; closes them all afterwards."""
    made: list[Any] = []

    def make(**overrides: Any) -> Any:
        application = create_app(backend.settings(**overrides), clock=clock)
        made.append(application)
        return application

    yield make
    for application in made:
        await application.state.ctx.background.drain()
        await application.state.ctx.store.close()
        await application.state.ctx.db.dispose()


@pytest.fixture
def app(make_app: Any) -> Any:
    return make_app()


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(app) as c:
        yield c


@pytest.fixture
async def other_client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A second browser (its own cookies) talking to the same Sesame."""
    async with asgi_client(app) as c:
        yield c
