"""The ephemeral store interface."""

from __future__ import annotations

from typing import Protocol


class StoreUnavailable(Exception):
    """The store could not be reached; the caller answers 503 and nothing was changed."""


class EphemeralStore(Protocol):
    async def put(self, key: str, value: bytes, ttl_seconds: int) -> None:
        """Set ``key`` to ``value``, replacing any previous value."""

    async def take(self, key: str) -> bytes | None:
        """Atomically read and delete ``key``: of two concurrent takes, only one gets the value."""

    async def swap(self, key: str, value: bytes, ttl_seconds: int) -> bytes | None:
        """Atomically set ``key`` to ``value`` and return what it held before (None if nothing):
        of two concurrent swaps, only one sees the original value."""

    async def get(self, key: str) -> bytes | None: ...

    async def delete(self, key: str) -> None: ...

    async def incr(self, key: str, ttl_seconds: int) -> int:
        """Increment a counter; the TTL starts with the first increment."""

    async def ttl(self, key: str) -> int:
        """Seconds until ``key`` expires (0 when it does not exist)."""

    async def ping(self) -> None: ...

    async def close(self) -> None: ...
