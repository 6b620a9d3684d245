"""The fault drill (issue 16): the load drill's journeys at a fixed rate against two Sesame
replicas over a PostgreSQL and a Redis of the drill's own (own data directories and ports,
never the machine's shared services), while it

    restarts Redis, restarts PostgreSQL (``pg_ctl restart -m fast``), stops Redis for 20 s,
    and sends SIGTERM to one replica,

one after the other. A small balancer in the drill routes each journey to a replica whose
``/readyz`` answers 200 (as a load balancer would). Verdict, PASS or FAIL (exit 1):

* no error outside a fault's window (from the fault until it is over, plus the recovery);
* recovery within 30 s: a journey started after the fault is over succeeds that soon, with
  no Sesame restarted;
* nothing lost: every person signs in again at the end (accounts and passkeys written before
  are there), a refresh token issued before the faults still works, and nothing used or
  revoked before them (a code, a refresh token) works again.

    .venv/bin/python bench/drill_faults.py                 # 40 people, 10 journeys/s
    .venv/bin/python bench/drill_faults.py --smoke         # CI: Redis and PostgreSQL restarts
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from joserfc.jwk import KeySet

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.drill_load import Drill, StepFailed  # noqa: E402
from bench.targets import REDIRECT, _sesame  # noqa: E402
from tests.conftest import SECRET  # noqa: E402
from tests.factories import Browser  # noqa: E402
from tests.ownservers import OwnPostgres, OwnRedis  # noqa: E402
from tests.processes import free_port, serve  # noqa: E402
from tests.softauthn import SoftAuthenticator  # noqa: E402

RECOVERY_SECONDS = 30.0


@dataclass
class Journey:
    started: float
    ended: float
    error: str  # "" when it went through


@dataclass
class Fault:
    name: str
    began: float
    over: float = 0.0
    recovered_after: float | None = None
    errors: int = 0


@dataclass
class Balancer:
    """Routes to replicas whose /readyz answers 200 (any replica when none does)."""

    urls: list[str]
    ready: list[str] = field(default_factory=list)
    turn: int = 0

    async def watch(self) -> None:
        async with httpx.AsyncClient(timeout=1) as probe:
            while True:
                found = []
                for url in self.urls:
                    try:
                        if (await probe.get(f"{url}/readyz")).status_code == 200:
                            found.append(url)
                    except httpx.HTTPError:
                        pass
                self.ready = found
                await asyncio.sleep(0.25)

    def pick(self) -> str:
        pool = self.ready or self.urls
        self.turn += 1
        return pool[self.turn % len(pool)]


def environment(pg: OwnPostgres, rd: OwnRedis, urls: list[str], port: int) -> dict[str, str]:
    return {
        **os.environ,
        "SESAME_DATABASE_URL": pg.url, "SESAME_REDIS_URL": rd.url,
        "SESAME_REDIS_PREFIX": "fault-drill:", "SESAME_SECRET_KEY": SECRET,
        "SESAME_DATA_DIR": tempfile.mkdtemp(prefix="sesame-fault-"),
        "SESAME_ISSUER": urls[0], "SESAME_PORT": str(port),
        "SESAME_ALLOWED_ORIGINS": json.dumps(urls),
        "SESAME_CEREMONY_RATE_PER_IP": "100000000",
        "BENCH_SERVER_ROOT": str(ROOT),
    }  # fmt: skip


class FaultDrill:
    def __init__(self, run: Drill, balancer: Balancer, people: int) -> None:
        self.run, self.balancer = run, balancer
        self.idle: asyncio.Queue[tuple[dict[str, httpx.AsyncClient], SoftAuthenticator]]
        self.idle = asyncio.Queue()
        self.people = people
        self.journeys: list[Journey] = []
        self.faults: list[Fault] = []

    async def sign_up(self) -> None:
        for _ in range(self.people):
            browsers = {
                url: httpx.AsyncClient(base_url=url, timeout=30) for url in self.balancer.urls
            }
            url = self.balancer.urls[0]
            auth = SoftAuthenticator(origin=url, backup_eligible=True, backed_up=True)
            (await Browser(browsers[url]).signup(auth)).raise_for_status()
            self.idle.put_nowait((browsers, auth))

    async def journey(self) -> None:
        browsers, auth = await self.idle.get()
        url = self.balancer.pick()
        auth.origin = url
        started = time.monotonic()
        error = ""
        try:
            await self.run.flow(browsers[url], auth, base=url)
        except StepFailed as exc:
            error = str(exc)
        except (httpx.HTTPError, KeyError, ValueError) as exc:
            error = f"client:{type(exc).__name__}"
        finally:
            self.idle.put_nowait((browsers, auth))
        self.journeys.append(Journey(started, time.monotonic(), error))

    async def load(self, rate: float, stop: asyncio.Event) -> None:
        tasks: set[asyncio.Task[None]] = set()
        while not stop.is_set():
            if not self.idle.empty():
                task = asyncio.create_task(self.journey())
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            await asyncio.sleep(1 / rate)
        await asyncio.gather(*tasks)

    async def fault(self, name: str, inject: object, pause: float) -> None:
        fault = Fault(name, time.monotonic())
        await inject  # type: ignore[misc]
        fault.over = time.monotonic()
        self.faults.append(fault)
        print(f"  {name}: {fault.over - fault.began:.1f}s", flush=True)
        await asyncio.sleep(pause)

    @staticmethod
    def within(journey: Journey, fault: Fault) -> bool:
        """The journey overlaps the fault, or the time it took to recover."""
        settled = fault.over + (fault.recovered_after or RECOVERY_SECONDS)
        return journey.ended >= fault.began and journey.started <= settled

    def judge(self) -> bool:
        """Every journey that failed must lie in a fault's window; each fault recovered."""
        passed = True
        for fault in self.faults:
            after = [j for j in self.journeys if j.started >= fault.over and not j.error]
            first = min((j.ended for j in after), default=None)
            fault.recovered_after = None if first is None else first - fault.over
            if fault.recovered_after is None or fault.recovered_after > RECOVERY_SECONDS:
                passed = False
        outside = 0
        for journey in (j for j in self.journeys if j.error):
            windows = [f for f in self.faults if self.within(journey, f)]
            if windows:
                windows[0].errors += 1
            else:
                outside += 1
                print(f"  error outside any fault: {journey.error}")
        print(f"journeys: {len(self.journeys)}, failed: {sum(1 for j in self.journeys if j.error)}"
              f", outside a fault's window: {outside}")  # fmt: skip
        for f in self.faults:
            rec = "never" if f.recovered_after is None else f"{f.recovered_after:.1f}s"
            print(f"  {f.name:24s} lasted {f.over - f.began:5.1f}s  errors in its window "
                  f"{f.errors:3d}  recovered after {rec}")  # fmt: skip
        return passed and outside == 0


async def survivors(run: Drill, url: str) -> tuple[str, str, dict[str, str]]:
    """Before the faults: a refresh token to use after them, a revoked one and a used code."""
    async with (
        httpx.AsyncClient(base_url=url, timeout=30) as page,
        httpx.AsyncClient(base_url=url, timeout=30) as app,
    ):
        auth = SoftAuthenticator(origin=url)
        (await Browser(page).signup(auth)).raise_for_status()
        kept = await run.tokens(page, app)
        spent = await run.tokens(page, app)
        body = {"token": spent["refresh_token"], "token_type_hint": "refresh_token"}
        (await app.post("/revoke", data=body, headers=run.basic)).raise_for_status()
        return kept["refresh_token"], spent["refresh_token"], spent["_code"]


async def nothing_lost(run: Drill, url: str, kept: str, revoked: str, used: dict[str, str]) -> bool:
    async with httpx.AsyncClient(base_url=url, timeout=30) as app:
        body = {"grant_type": "refresh_token", "refresh_token": kept}
        ok = (await app.post("/token", data=body, headers=run.basic)).status_code == 200
        body = {"grant_type": "refresh_token", "refresh_token": revoked}
        ok &= (await app.post("/token", data=body, headers=run.basic)).status_code == 400
        ok &= (await app.post("/token", data=used, headers=run.basic)).status_code == 400
    print(f"  refresh token from before the faults works, revoked token and used code refused: "
          f"{'yes' if ok else 'NO'}")  # fmt: skip
    return ok


async def drill(args: argparse.Namespace) -> int:
    pg, rd = OwnPostgres(), OwnRedis()
    pg.start()
    rd.start()
    try:
        ports = [free_port(), free_port()]
        urls = [f"http://localhost:{p}" for p in ports]
        envs = [environment(pg, rd, urls, p) for p in ports]
        await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "service.cli", "migrate"], env=envs[0],
            cwd=ROOT, check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        client = await _sesame(
            envs[0], "clients", "create", "--name", "fault drill", "--first-party",
            "--redirect-uri", REDIRECT, "--scope", "openid profile email",
            "--grant", "authorization_code", "--grant", "refresh_token",
        )  # fmt: skip
        logs = Path(tempfile.mkdtemp(prefix="sesame-fault-logs-"))
        async with (
            serve(envs[0], urls[0], logs / "a.log") as first,
            serve(envs[1], urls[1], logs / "b.log") as second,
        ):
            del first
            async with httpx.AsyncClient(base_url=urls[0]) as http:
                jwks = KeySet.import_key_set((await http.get("/jwks.json")).json())
            run = Drill(urls[0], client["client_id"], client["client_secret"], jwks)
            balancer = Balancer(urls, list(urls))
            watcher = asyncio.create_task(balancer.watch())
            kept, revoked, used = await survivors(run, urls[0])
            drill = FaultDrill(run, balancer, args.people)
            await drill.sign_up()
            print(f"fault drill: {args.people} people, {args.rate} journeys/s, two replicas; "
                  f"logs in {logs}", flush=True)  # fmt: skip
            stop = asyncio.Event()
            loader = asyncio.create_task(drill.load(args.rate, stop))
            await asyncio.sleep(args.pause)
            await drill.fault("Redis restart", rd.restart(down_seconds=1), args.pause)
            await drill.fault("PostgreSQL restart", pg.restart(), args.pause)
            if not args.smoke:
                await drill.fault("Redis away 20 s", rd.restart(down_seconds=20), args.pause)
                await drill.fault("SIGTERM one replica", terminate(second), args.pause)
            stop.set()
            await loader
            watcher.cancel()
            passed = drill.judge()
            # Every person signs in once more, on the replica left: nobody was lost.
            before = len(drill.journeys)
            await asyncio.gather(*(drill.journey() for _ in range(args.people)))
            again = drill.journeys[before:]
            everyone = all(not j.error for j in again)
            print(f"  every person signs in again afterwards: {'yes' if everyone else 'NO'}")
            passed = passed and everyone and await nothing_lost(run, urls[0], kept, revoked, used)
    finally:
        rd.stop()
        pg.stop()
    print(f"verdict: {'PASS' if passed else 'FAIL'}")
    return 0 if passed else 1


async def terminate(proc: asyncio.subprocess.Process) -> None:
    proc.send_signal(signal.SIGTERM)
    await proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--people", type=int, default=40)
    parser.add_argument("--rate", type=float, default=10.0, help="journeys started per second")
    parser.add_argument("--pause", type=float, default=15.0, help="seconds between faults")
    parser.add_argument(
        "--smoke", action="store_true", help="CI: a Redis and a PostgreSQL restart, 10 people"
    )
    args = parser.parse_args()
    if args.smoke:
        args.people, args.rate, args.pause = 10, 5.0, 6.0
    sys.exit(asyncio.run(drill(args)))


if __name__ == "__main__":
    main()
