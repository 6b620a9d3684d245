"""In-process store for the embedded default: valid for one process only.

Every method runs without an ``await`` between read and write, so on one event loop each call is
atomic, which is what ``take`` needs.
"""

from __future__ import annotations

import time

from service.store.base import CLAIMED, REPLAYED

# Held at most at once: past it, expired entries are swept and, if a flood of distinct keys
# (one per address) still fills it, the oldest are forgotten (a budget forgotten starts afresh).
MAX_ENTRIES = 100_000


class MemoryStore:
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._data: dict[str, tuple[bytes, float]] = {}
        self._max = max_entries

    def _make_room(self) -> None:
        if len(self._data) < self._max:
            return
        self._sweep()
        excess = len(self._data) - self._max * 9 // 10
        for key in list(self._data)[: max(0, excess)]:
            del self._data[key]

    def _live(self, key: str) -> bytes | None:
        item = self._data.get(key)
        if item is None:
            return None
        value, expires = item
        if expires <= time.monotonic():
            del self._data[key]
            return None
        return value

    def _sweep(self) -> None:
        now = time.monotonic()
        for key in [k for k, (_, exp) in self._data.items() if exp <= now]:
            del self._data[key]

    async def put(self, key: str, value: bytes, ttl_seconds: int) -> None:
        self._make_room()
        self._data[key] = (value, time.monotonic() + ttl_seconds)

    async def take(self, key: str) -> bytes | None:
        value = self._live(key)
        self._data.pop(key, None)
        return value

    async def claim(self, key: str, tombstone: bytes, ttl_seconds: int) -> bytes | None:
        previous = self._live(key)
        if previous is None:
            return None
        if previous.startswith(CLAIMED):
            rest = previous[len(CLAIMED) :]
            self._data[key] = (REPLAYED + rest, self._data[key][1])
        elif not previous.startswith(REPLAYED):
            self._data[key] = (CLAIMED + tombstone, time.monotonic() + ttl_seconds)
        return previous

    async def release(self, key: str, tombstone: bytes, value: bytes, ttl_seconds: int) -> bool:
        if self._live(key) != CLAIMED + tombstone:
            return False
        self._data[key] = (value, time.monotonic() + ttl_seconds)
        return True

    async def get(self, key: str) -> bytes | None:
        return self._live(key)

    async def delete(self, key: str) -> None:
        self._data.pop(key, None)

    async def incr(self, key: str, ttl_seconds: int) -> int:
        current = self._live(key)
        if current is None:
            self._make_room()
        count = int(current or b"0") + 1
        expires = self._data[key][1] if current is not None else time.monotonic() + ttl_seconds
        self._data[key] = (str(count).encode(), expires)
        return count

    async def ttl(self, key: str) -> int:
        if self._live(key) is None:
            return 0
        return max(1, round(self._data[key][1] - time.monotonic()))

    async def throttle(
        self, key: str, limit: int, window_seconds: int, *, peek: bool = False
    ) -> float:
        """GCRA as in the Redis store, on this process's monotonic clock."""
        now = time.monotonic()
        interval = window_seconds / limit
        stored = self._live(key)
        tat = max(float(stored) if stored is not None else now, now)
        # The burst tolerance first: with tat == now a request that fits is never refused by a
        # rounding error (tat + interval - window can come out a hair above now).
        allowed_at = tat - (window_seconds - interval)
        if now < allowed_at:
            return allowed_at - now
        if not peek:
            if stored is None:
                self._make_room()
            self._data[key] = (repr(tat + interval).encode(), tat + interval)
        return 0.0

    async def put_within(
        self,
        key: str,
        value: bytes,
        ttl_seconds: int,
        budget_key: str,
        limit: int,
        window_seconds: int,
    ) -> float:
        wait = await self.throttle(budget_key, limit, window_seconds)
        if not wait:
            await self.put(key, value, ttl_seconds)
        return wait

    def __len__(self) -> int:
        return len(self._data)

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        self._data.clear()
