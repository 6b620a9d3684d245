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
import time
from collections import deque
from typing import Any, cast

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
        self._idle_watchers: list[asyncio.Future[None]] = []

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
        watchers, self._idle_watchers = self._idle_watchers, []
        for watcher in watchers:
            if not watcher.done():
                watcher.set_result(None)

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

    async def until_idle(self) -> None:
        """Until a connection lies idle: given back while no one waited for it."""
        if not self._items:
            watcher: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._idle_watchers.append(watcher)
            await watcher

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

    def idle_dbapi_connection(self) -> Any | None:
        """The DB-API connection of a connection idle in the pool, left there: for a use that
        runs to its end on the event loop's thread without awaiting (``service.db.hot``), which
        no checkout can interleave with, since a checkout too needs the loop. None when every
        connection is out, or when the idle one would not be handed out as it is (closed,
        invalidated or due for recycling: its checkout reconnects it)."""
        items = self._fair._items
        if not items:
            return None
        record = items[-1] if self._pool.use_lifo else items[0]
        started = record.starttime
        if (
            record.dbapi_connection is None
            or (self._recycle > -1 and time.time() - started > self._recycle)
            or self._invalidate_time > started
            or record._soft_invalidate_time > started
        ):
            return None
        return record.dbapi_connection

    def all_out(self) -> bool:
        """Every connection is checked out (and there is one)."""
        return not self._fair._items and self.checkedout() > 0

    async def until_idle(self) -> bool:
        """Wait until a connection lies idle in the pool, for at most the pool's timeout: whether
        one does."""
        try:
            async with asyncio.timeout(self._timeout):
                await self._fair.until_idle()
        except TimeoutError:
            return False
        return True

    @property
    def _fair(self) -> FairQueue:
        return cast(FairQueue, self._pool)
