"""Work started by a request that must not delay its answer (sending a sign-in link takes the
same time whether or not the address has an account, because the answer never waits for it)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

log = logging.getLogger("sesame.tasks")


class Background:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)  # keep a reference until done (the loop holds only weak ones)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task failed", exc_info=task.exception())

    async def drain(self) -> None:
        """Wait for everything spawned so far (shutdown, tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


class Poller:
    """A queue's sender loop, one per process: run ``work`` until it finds nothing due, then
    sleep ``interval`` seconds or until woken. A failure is logged and the loop goes on; one
    that ``expected`` recognises (a database outage) as one warning line, without a
    traceback."""

    def __init__(
        self,
        name: str,
        work: Callable[[], Awaitable[int]],
        interval: float,
        expected: Callable[[BaseException], bool],
    ) -> None:
        self.name = name
        self.work = work
        self.interval = interval
        self.expected = expected
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while True:
            try:
                while await self.work():
                    pass
            except Exception as exc:  # an outage must not end the sender
                if not self.expected(exc):
                    log.exception("%s: round failed", self.name)
                else:
                    log.warning(
                        "%s: storage unavailable (%s); will retry", self.name, type(exc).__name__
                    )
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


class PolledSender:
    """A sender driven by its ``Poller`` (the email outbox's, logout tokens', webhooks')."""

    _poller: Poller

    def wake(self) -> None:
        self._poller.wake()

    def start(self) -> None:
        self._poller.start()

    async def stop(self) -> None:
        await self._poller.stop()
