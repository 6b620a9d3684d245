"""Sesame as stateless replicas over one PostgreSQL and Redis, and what happens when those go
away: real processes, real servers, faults injected by a TCP proxy in the test process."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from joserfc import jws, jwt
from joserfc.jwk import KeySet
from sqlalchemy import func
from sqlmodel import select

from service.db.engine import Database
from service.db.models import User
from tests.conftest import REDIS_URL, Backend, _redis_clear, fresh_backend
from tests.factories import Browser, new_username
from tests.netfault import FaultProxy
from tests.processes import ROOT, free_port, serve
from tests.rp import RelyingParty
from tests.softauthn import SoftAuthenticator

PROCESSES: dict[str, asyncio.subprocess.Process] = {}


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    """One PostgreSQL database and Redis prefix for every replica in this module."""
    with fresh_backend("postgres", tmp_path_factory.mktemp("replicas")) as backend:
        yield backend


@asynccontextmanager
async def sesame(
    backend: Backend, tmp: Path, *, issuer: str | None = None, **env: str
) -> AsyncIterator[str]:
    """A ``sesame serve`` process; yields its URL (its process is ``PROCESSES[url]``). Waits
    without blocking the event loop, so fault proxies in this process keep working."""
    port = free_port()
    url = f"http://localhost:{port}"
    full_env = {
        **os.environ,
        **backend.env(),
        "SESAME_ISSUER": issuer or url,
        "SESAME_PORT": str(port),
        "SESAME_SIGNING_KEY_CACHE_SECONDS": "1",
        **env,
    }
    async with serve(full_env, url, tmp / f"sesame-{port}.log") as proc:
        PROCESSES[url] = proc
        try:
            yield url
        finally:
            PROCESSES.pop(url, None)


async def cli(backend: Backend, *args: str) -> str:
    env = {**os.environ, **backend.env(), "SESAME_SIGNING_KEY_CACHE_SECONDS": "1"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "service.cli", *args,
        env=env, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return out.decode()


async def register(backend: Backend) -> RelyingParty:
    created = json.loads(
        await cli(
            backend,
            "clients",
            "create",
            "--name",
            "Replica app",
            "--first-party",
            "--redirect-uri",
            "https://app.example/callback",
        )
    )
    return RelyingParty("", created["client_id"], created["client_secret"])


async def test_a_ceremony_and_a_code_cross_replicas(shared, tmp_path):
    async with sesame(shared, tmp_path) as a, sesame(shared, tmp_path, issuer=a) as b:
        auth = SoftAuthenticator(origin=a)
        async with httpx.AsyncClient(base_url=a) as c:
            browser = Browser(c)
            begun = (await browser.begin_signup()).json()
            c.base_url = httpx.URL(b)  # the load balancer sends the finish elsewhere
            done = await browser.post(
                "/signup/finish",
                {"ceremony": begun["ceremony"], "credential": auth.create(begun["publicKey"])},
            )
            assert done.status_code == 200, done.text
            c.base_url = httpx.URL(a)
            assert (await c.get("/account")).status_code == 200

            rp = await register(shared)
            flow = await rp.authorize(browser)  # the code is issued by A ...
            rp.app = b
            tokens = await rp.exchange(flow)  # ... and redeemed on B
            assert tokens.status_code == 200, tokens.text
            rp.app = a
            assert (await rp.userinfo(tokens.json()["access_token"])).status_code == 200
            refreshed = await rp.refresh(tokens.json()["refresh_token"])
            assert refreshed.status_code == 200


async def test_a_key_rotated_through_one_replica_is_served_and_honoured_by_both(shared, tmp_path):
    async with (
        sesame(shared, tmp_path) as a,
        sesame(shared, tmp_path, issuer=a) as b,
        httpx.AsyncClient() as http,
    ):
        before = {k["kid"] for k in (await http.get(f"{a}/jwks.json")).json()["keys"]}
        await cli(shared, "keys", "rotate")  # publishes now, signs after 2 s
        await asyncio.sleep(1.2)
        for url in (a, b):
            kids = {k["kid"] for k in (await http.get(f"{url}/jwks.json")).json()["keys"]}
            assert before < kids, url
        new = {k["kid"] for k in (await http.get(f"{a}/jwks.json")).json()["keys"]} - before
        await asyncio.sleep(1.2)
        auth = SoftAuthenticator(origin=a)
        async with httpx.AsyncClient(base_url=b) as c:
            browser = Browser(c)
            assert (await browser.signup(auth)).status_code == 200
            rp = await register(shared)
            rp.app = b
            body = await rp.tokens(browser)
        kid = jws.extract_compact(body["id_token"].encode()).protected["kid"]
        assert kid in new
        served_by_a = KeySet.import_key_set((await http.get(f"{a}/jwks.json")).json())
        jwt.decode(body["id_token"], served_by_a, algorithms=["RS256"])
        rp.app = a
        assert (await rp.userinfo(body["access_token"])).status_code == 200


async def count_users(backend: Backend) -> int:
    db = Database(backend.database_url)
    try:
        async with db.session() as session:
            return int((await session.exec(select(func.count()).select_from(User))).one())
    finally:
        await db.dispose()


@asynccontextmanager
async def behind_proxies(
    backend: Backend, tmp: Path
) -> AsyncIterator[tuple[str, FaultProxy, FaultProxy]]:
    pg = await FaultProxy("127.0.0.1", 5432).start()
    redis = await FaultProxy("127.0.0.1", 6379).start()
    db_url = backend.database_url.replace("127.0.0.1:5432", f"127.0.0.1:{pg.port}")
    redis_url = REDIS_URL.replace("127.0.0.1:6379", f"127.0.0.1:{redis.port}")
    try:
        async with sesame(
            backend, tmp, SESAME_DATABASE_URL=db_url, SESAME_REDIS_URL=redis_url
        ) as url:
            yield url, pg, redis
    finally:
        await pg.stop()
        await redis.stop()


async def test_redis_restarted_mid_ceremony_means_start_again(shared, tmp_path):
    async with (
        behind_proxies(shared, tmp_path) as (url, _pg, redis),
        httpx.AsyncClient(base_url=url) as c,
    ):
        users_before = await count_users(shared)
        browser = Browser(c)
        auth = SoftAuthenticator(origin=url)
        begun = (await browser.begin_signup(username=new_username())).json()
        # Redis restarts (it keeps nothing on disk): connections drop, data is gone.
        redis.cut()
        await _redis_clear(shared.redis_prefix)
        during = await browser.post("/signin/begin")
        assert during.status_code == 503
        redis.restore()
        finish = await browser.post(
            "/signup/finish",
            {"ceremony": begun["ceremony"], "credential": auth.create(begun["publicKey"])},
        )
        assert finish.status_code == 400
        assert finish.json()["error"] == "ceremony_expired"
        assert await count_users(shared) == users_before
        # Starting again works, without restarting Sesame.
        assert (await browser.signup(auth)).status_code == 200


async def test_postgres_down_fails_fast_and_recovers(shared, tmp_path):
    async with (
        behind_proxies(shared, tmp_path) as (url, pg, _redis),
        httpx.AsyncClient(base_url=url, timeout=10) as c,
    ):
        browser = Browser(c)
        assert (await browser.signup(SoftAuthenticator(origin=url))).status_code == 200
        assert (await c.get("/readyz")).status_code == 200
        pg.cut()
        ready = await c.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"].startswith("unreachable")
        page = await c.get("/account")
        assert page.status_code == 503
        assert "cannot reach its storage" in page.text
        pg.restore()
        for _ in range(50):
            if (await c.get("/readyz")).status_code == 200:
                break
            await asyncio.sleep(0.1)
        assert (await c.get("/account")).status_code == 200


async def test_used_codes_and_revoked_refresh_tokens_survive_a_redis_flush(shared, tmp_path):
    async with sesame(shared, tmp_path) as url, httpx.AsyncClient(base_url=url) as c:
        browser = Browser(c)
        assert (await browser.signup(SoftAuthenticator(origin=url))).status_code == 200
        rp = await register(shared)
        rp.app = url
        flow = await rp.authorize(browser)
        first = (await rp.exchange(flow)).json()
        revoked = await rp.tokens(browser)
        async with rp.back_channel() as back:
            await back.post(
                "/revoke",
                data={"token": revoked["refresh_token"]},
                auth=(rp.client_id, rp.secret or ""),
            )
        await _redis_clear(shared.redis_prefix)
        assert (await rp.exchange(flow)).json()["error"] == "invalid_grant"
        assert (await rp.refresh(revoked["refresh_token"])).json()["error"] == "invalid_grant"
        assert (await rp.refresh(first["refresh_token"])).status_code == 200


async def test_sigterm_lets_in_flight_requests_finish(shared, tmp_path):
    """Requests the server is in the middle of (their bodies still arriving) when SIGTERM comes
    all get their answer; connections opened after it are refused, for a load balancer to
    retry elsewhere. Nothing is cut off half-way."""
    async with sesame(shared, tmp_path) as url:
        body = b"grant_type=client_credentials&client_id=nobody&client_secret=x"

        async def slow_body() -> AsyncIterator[bytes]:
            yield body[:10]
            await asyncio.sleep(0.6)  # SIGTERM arrives while the server waits for the rest
            yield body[10:]

        async def in_flight(client: httpx.AsyncClient) -> int:
            response = await client.post(
                "/token",
                content=slow_body(),
                headers={
                    "Content-Length": str(len(body)),
                    "Content-Type": "application/x-www-form-urlencoded",
                },
            )
            return response.status_code

        clients = [httpx.AsyncClient(base_url=url, timeout=30) for _ in range(10)]
        try:
            pending = [asyncio.create_task(in_flight(c)) for c in clients]
            await asyncio.sleep(0.3)
            PROCESSES[url].send_signal(signal.SIGTERM)
            await asyncio.sleep(0.1)
            with pytest.raises(httpx.ConnectError):
                async with httpx.AsyncClient(base_url=url) as late:
                    await late.get("/healthz")
            statuses = await asyncio.gather(*pending)
            await asyncio.wait_for(PROCESSES[url].wait(), 30)
        finally:
            for c in clients:
                await c.aclose()
        # Every in-flight request got Sesame's real answer (unknown client: 401).
        assert statuses == [401] * 10
