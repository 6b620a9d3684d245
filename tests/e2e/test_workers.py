"""Several workers (``SESAME_WORKERS=2``) behind one port: a scrape of ``/metrics``, whichever
worker answers it, reports the requests of both (prometheus_client's multiprocess mode, set up
by ``sesame serve`` in a directory of its own, or in ``PROMETHEUS_MULTIPROC_DIR`` if given)."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

import httpx
import pytest

from tests.conftest import fresh_backend
from tests.processes import free_port, serve

REQUESTS = 200


def healthz_count(exposition: str) -> float:
    found = re.search(
        r'^sesame_http_requests_total\{method="GET",route="/healthz",status="200"\} (\S+)$',
        exposition,
        re.MULTILINE,
    )
    return float(found.group(1)) if found else 0.0


def workers_dirs(pid: int) -> set[str]:
    """The samples directory each worker process of ``pid`` was started with."""
    found = set()
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        environ = Path(f"/proc/{child}/environ").read_bytes().split(b"\0")
        for pair in environ:
            if pair.startswith(b"PROMETHEUS_MULTIPROC_DIR="):
                found.add(pair.split(b"=", 1)[1].decode())
    return found


def worker_pids(pid: int) -> list[str]:
    """uvicorn's workers among the children of ``pid`` (not multiprocessing's tracker)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [c for c in children if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]


def mapped(pid: int | str, part: str) -> bool:
    """Whether a shared library whose path contains ``part`` is mapped into process ``pid``."""
    return part in Path(f"/proc/{pid}/maps").read_text()


def counter_files(directory: str) -> list[str]:
    return sorted(p.name for p in Path(directory).glob("counter_*.db"))


@pytest.mark.parametrize("given", [False, True], ids=["own-directory", "operator-directory"])
async def test_two_workers_count_every_request_once(tmp_path, given):
    env_dir = {}
    if given:
        env_dir["PROMETHEUS_MULTIPROC_DIR"] = str(tmp_path / "metrics")
        (tmp_path / "metrics").mkdir()
        (tmp_path / "metrics" / "counter_1.db").write_bytes(b"from a previous run")
    with fresh_backend("postgres", tmp_path) as backend:
        port = free_port()
        url = f"http://localhost:{port}"
        env = {
            **{k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"},
            **backend.env(), "SESAME_ISSUER": url, "SESAME_PORT": str(port),
            "SESAME_WORKERS": "2", **env_dir,
        }  # fmt: skip
        async with serve(env, url, tmp_path / "sesame.log") as proc:
            # Fresh connections, many at once: the kernel hands them to both workers.
            limits = httpx.Limits(max_keepalive_connections=0)
            async with httpx.AsyncClient(base_url=url, limits=limits) as client:
                before = healthz_count((await client.get("/metrics")).text)
                (samples,) = workers_dirs(proc.pid)
                # Rounds until both workers have answered (the second may still be starting
                # when the first answers /healthz), at least REQUESTS requests in all.
                sent = 0
                while sent < REQUESTS or (len(counter_files(samples)) < 2 and sent < 20 * REQUESTS):
                    answers = await asyncio.gather(*(client.get("/healthz") for _ in range(20)))
                    assert {a.status_code for a in answers} == {200}
                    sent += 20
                scrapes = [healthz_count((await client.get("/metrics")).text) for _ in range(6)]
                # Both workers have answered. `sesame serve` became uvicorn's supervisor alone
                # (service.supervisor): the database driver, like the rest of the app, is
                # loaded by the workers only.
                drivers = [mapped(worker, "asyncpg") for worker in worker_pids(proc.pid)]
                supervisor_has_driver = mapped(proc.pid, "asyncpg")
            writers = counter_files(samples)
    # Both workers answered requests (each wrote its own file; a previous run's was cleared
    # at start), and every scrape, from either worker, saw all of them.
    assert len(writers) == 2 and "counter_1.db" not in writers, writers
    assert drivers == [True, True] and not supervisor_has_driver
    assert scrapes == [before + sent] * 6, (before, sent, scrapes)
    assert given or counter_files(samples) == []  # its own directory goes with the server
