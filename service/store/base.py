"""The ephemeral store interface."""

from __future__ import annotations

from typing import Protocol


class StoreUnavailable(Exception):
    """The store could not be reached; the caller answers 503 and nothing was changed."""


# What ``claim`` leaves behind: a claimed value becomes CLAIMED + tombstone, and a claim of a
# claimed value turns it into REPLAYED + tombstone (the first claimant's tombstone is kept).
CLAIMED = b"\x00claimed:"
REPLAYED = b"\x00replayed:"


class EphemeralStore(Protocol):
    async def put(self, key: str, value: bytes, ttl_seconds: int) -> None:
        """Set ``key`` to ``value``, replacing any previous value."""

    async def take(self, key: str) -> bytes | None:
        """Atomically read and delete ``key``: of two concurrent takes, only one gets the value."""

    async def claim(self, key: str, tombstone: bytes, ttl_seconds: int) -> bytes | None:
        """Use a single-use value, atomically, and remember that it was used. Returns what
        ``key`` held before: None when it held nothing (and then nothing is written, so a
        value that was never issued leaves no trace); the value itself on the first claim,
        which replaces it with ``CLAIMED + tombstone`` for ``ttl_seconds``; a ``CLAIMED``
        tombstone on the second, which marks it ``REPLAYED`` (same tombstone, same expiry)
        so that the first claimant can still learn of the replay; a ``REPLAYED`` one after
        that, unchanged."""

    async def release(self, key: str, tombstone: bytes, value: bytes, ttl_seconds: int) -> bool:
        """Undo a first ``claim`` that used nothing, atomically: ``key`` holds ``value`` again
        for ``ttl_seconds`` if it still holds that claim's ``CLAIMED + tombstone``. False, and
        nothing changed, once a replay marked it ``REPLAYED`` (or it expired)."""

    async def get(self, key: str) -> bytes | None: ...

    async def delete(self, key: str) -> None: ...

    async def incr(self, key: str, ttl_seconds: int) -> int:
        """Increment a counter; the TTL starts with the first increment."""

    async def ttl(self, key: str) -> int:
        """Seconds until ``key`` expires (0 when it does not exist)."""

    async def throttle(
        self, key: str, limit: int, window_seconds: int, *, peek: bool = False
    ) -> float:
        """One request against a budget of ``limit`` per ``window_seconds`` (GCRA, the generic
        cell rate algorithm: ``limit`` at once, then one every ``window / limit`` seconds), in
        one atomic step. Returns 0 when the request fits, and counts it unless ``peek``;
        otherwise the seconds until one would fit, counting nothing."""

    async def put_within(
        self,
        key: str,
        value: bytes,
        ttl_seconds: int,
        budget_key: str,
        limit: int,
        window_seconds: int,
    ) -> float:
        """``throttle(budget_key, ...)`` and, only when the request fits, ``put(key, ...)``, in
        one atomic step (one round trip): what a budgeted write costs. Returns as ``throttle``."""

    async def ping(self) -> None: ...

    async def close(self) -> None: ...
