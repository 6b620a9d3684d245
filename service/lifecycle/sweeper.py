"""Housekeeping: remove what can no longer be used (``SWEEPS``), so that no table grows
forever and no janitor has to be scheduled.

Every replica runs a sweep every ``SESAME_SWEEP_SECONDS`` (and once as it starts); on
PostgreSQL an advisory lock lets one of them work while the others skip that round. A sweep
deletes in batches of ``SESAME_SWEEP_BATCH`` rows, oldest first, each its own short
transaction on a connection taken for that batch alone (the embedded default's single
connection is shared with the requests between batches), and pauses after each batch
``SESAME_SWEEP_PAUSE_RATIO`` times as long as the batch took, so that a backlog is cleared
without crowding out requests. ``sesame prune`` runs the same sweep once; ``--dry-run`` only
counts.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from service.clock import Clock
from service.db import housekeeping as rows
from service.db.engine import Database, is_database_outage
from service.lifecycle.sweeps import KINDS, SWEEPS, Sweep
from service.metrics import SWEPT
from service.settings import Settings
from service.tasks import Poller

log = logging.getLogger("sesame.lifecycle")


@dataclass
class Report:
    """Rows removed (or, in a dry run, that would be) per kind; ``skipped`` when another
    replica held the lock."""

    counts: dict[str, int] = field(default_factory=dict)
    skipped: bool = False
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def summary(self) -> str:
        return " ".join(f"{kind}={n}" for kind, n in self.counts.items())


@asynccontextmanager
async def _one_replica(db: Database) -> AsyncIterator[bool]:
    """Whether this process may sweep now; on PostgreSQL the advisory lock is held (on a
    connection of its own) until the sweep ends."""
    if db.engine.dialect.name != "postgresql":
        yield True
        return
    async with db.engine.connect() as conn:
        got = await rows.try_lock(conn)
        try:
            yield got
        finally:
            if got:
                await rows.unlock(conn)


async def _remove(db: Database, sweep: Sweep, settings: Settings, clock: Clock) -> int:
    cutoff = sweep.cutoff(settings, clock.now())
    removed = 0
    while True:
        started = time.perf_counter()
        async with db.engine.connect() as conn:
            n = await rows.delete_batch(conn, sweep.table, sweep.key, cutoff, settings.sweep_batch)
        removed += n
        SWEPT.labels(sweep.kind).inc(n)
        if n < settings.sweep_batch:
            return removed
        # The database's time goes to requests first: after each batch, a pause as many times
        # as long as the batch took (the sweep works a 1 / (1 + ratio) share of the time).
        await asyncio.sleep((time.perf_counter() - started) * settings.sweep_pause_ratio)


async def sweep(
    db: Database,
    clock: Clock,
    settings: Settings,
    *,
    kinds: Iterable[str] = KINDS,
    dry_run: bool = False,
) -> Report:
    """One sweep of the named kinds (all by default)."""
    wanted = set(kinds)
    unknown = wanted - set(KINDS)
    if unknown:
        raise ValueError(f"unknown kinds: {', '.join(sorted(unknown))}")
    started = time.perf_counter()
    report = Report()
    async with _one_replica(db) as mine:
        if not mine:
            report.skipped = True
            return report
        for item in SWEEPS:
            if item.kind not in wanted:
                continue
            if dry_run:
                async with db.engine.connect() as conn:
                    cutoff = item.cutoff(settings, clock.now())
                    report.counts[item.kind] = await rows.count(conn, item.table, item.key, cutoff)
            else:
                report.counts[item.kind] = await _remove(db, item, settings, clock)
    report.seconds = time.perf_counter() - started
    if report.total and not dry_run:
        log.info("swept %s in %.2f s", report.summary(), report.seconds)
    return report


class Sweeper:
    """The background sweep of one process (started with the app)."""

    def __init__(self, db: Database, clock: Clock, settings: Settings) -> None:
        self._db, self._clock, self._settings = db, clock, settings
        self._poller = Poller(
            "housekeeping", self._round, float(settings.sweep_seconds), is_database_outage
        )

    async def _round(self) -> int:
        await sweep(self._db, self._clock, self._settings)
        return 0  # then sleep until the next round

    def start(self) -> None:
        if self._settings.sweep_seconds > 0:
            self._poller.start()

    async def stop(self) -> None:
        await self._poller.stop()
