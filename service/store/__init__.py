"""Ephemeral state (ceremony challenges, pending sign-ups, rate-limit counters).

Two implementations behind one interface: Redis for anything with more than one process, and an
in-process dictionary for the embedded default. Every value also carries its own ``expires_at``,
checked by the caller against the injected clock; the store's TTL only cleans up.
"""

from service.store.base import EphemeralStore, StoreUnavailable
from service.store.memory import MemoryStore

__all__ = ["EphemeralStore", "MemoryStore", "StoreUnavailable", "open_store"]


def open_store(redis_url: str | None, prefix: str) -> EphemeralStore:
    if redis_url:
        # redis-py only where Redis is used: the embedded default saves its 6 MB.
        from service.store.redis import RedisStore

        return RedisStore.from_url(redis_url, prefix=prefix)
    return MemoryStore()
