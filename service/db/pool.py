"""A connection pool that serves waiting requests in the order they asked.

SQLAlchemy's asyncio pool keeps its idle connections in an ``asyncio.Queue``. A connection
given back wakes the first waiter, but that waiter runs only on a later turn of the event loop,
and a request that asks meanwhile takes the connection first (``get_nowait`` finds it). The
woken waiter finds the queue empty and queues again, at the back. Under load a few requests
lose that race over and over: on the embedded default, whose pool is one connection, p50 was
16 ms and p99 300-530 ms at full load (bench/compare.py).

Here a connection given back while someone waits is handed to the oldest waiter directly; it
never becomes visible to a request that asked later. What the pool does otherwise (sizes,
overflow, timeouts, events) is SQLAlchemy's ``AsyncAdaptedQueuePool`` unchanged.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlalchemy.util import await_
from sqlalchemy.util.queue import Empty, Full, QueueCommon


class FairQueue(QueueCommon[Any]):
    """FIFO hand-off queue with the interface QueuePool uses (``put``/``get``, blocking or not).

    Invariant: idle items and waiters never coexist, so a non-blocking ``get`` taking an idle
    item never overtakes anyone.
    """

    def __init__(self, maxsize: int = 0, use_lifo: bool = False) -> None:
        self.maxsize = maxsize
        self.use_lifo = use_lifo
        self._items: deque[Any] = deque()
        self._waiters: deque[asyncio.Future[Any]] = deque()

    def empty(self) -> bool:
        return not self._items

    def full(self) -> bool:
        return 0 < self.maxsize <= len(self._items)

    def qsize(self) -> int:
        return len(self._items)

    def put_nowait(self, item: Any) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():  # skips waiters that timed out or were cancelled
                waiter.set_result(item)
                return
        if self.full():
            raise Full()
        self._items.append(item)

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        # The pool only gives back without blocking: it never holds more than maxsize.
        self.put_nowait(item)

    def get_nowait(self) -> Any:
        if not self._items:
            raise Empty()
        return self._items.pop() if self.use_lifo else self._items.popleft()

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        if self._items or not block:
            return self.get_nowait()
        return await_(self._take(timeout))

    async def _take(self, seconds: float | None) -> Any:
        try:
            async with asyncio.timeout(seconds):
                return await self._wait()
        except TimeoutError as exc:
            raise Empty() from exc

    async def _wait(self) -> Any:
        waiter: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            # Cancelled (or timed out) after a connection was handed over but before this task
            # resumed: the connection goes to the next in line instead of being lost.
            if waiter.done() and not waiter.cancelled():
                self.put_nowait(waiter.result())
            raise


class FairAsyncQueuePool(AsyncAdaptedQueuePool):
    """``AsyncAdaptedQueuePool`` whose waiters get connections first come, first served."""

    _queue_class = FairQueue
