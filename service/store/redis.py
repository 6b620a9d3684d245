"""Redis store: shared by every Sesame process, so ceremonies and limits hold across workers."""

from __future__ import annotations

from typing import cast

from redis.asyncio import Redis
from redis.exceptions import RedisError

from service.store.base import StoreUnavailable


class RedisStore:
    def __init__(self, client: Redis, prefix: str) -> None:
        self._redis = client
        self._prefix = prefix

    @classmethod
    def from_url(cls, url: str, prefix: str) -> RedisStore:
        client = Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        return cls(client, prefix)

    async def put(self, key: str, value: bytes, ttl_seconds: int) -> None:
        try:
            await self._redis.set(self._prefix + key, value, ex=ttl_seconds)
        except RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def take(self, key: str) -> bytes | None:
        try:
            # GETDEL (Redis >= 6.2) reads and deletes in one atomic step.
            return cast(bytes | None, await self._redis.getdel(self._prefix + key))
        except RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def swap(self, key: str, value: bytes, ttl_seconds: int) -> bytes | None:
        try:
            # SET ... GET (Redis >= 6.2): one atomic step that returns the old value.
            old = await self._redis.set(self._prefix + key, value, ex=ttl_seconds, get=True)
            return cast(bytes | None, old)
        except RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def get(self, key: str) -> bytes | None:
        try:
            return cast(bytes | None, await self._redis.get(self._prefix + key))
        except RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def delete(self, key: str) -> None:
        try:
            await self._redis.delete(self._prefix + key)
        except RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def incr(self, key: str, ttl_seconds: int) -> int:
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(self._prefix + key)
                pipe.expire(self._prefix + key, ttl_seconds, nx=True)
                count, _ = await pipe.execute()
            return int(count)
        except RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def ttl(self, key: str) -> int:
        try:
            return max(0, int(await self._redis.ttl(self._prefix + key)))
        except RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def ping(self) -> None:
        try:
            await self._redis.ping()
        except RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def close(self) -> None:
        await self._redis.aclose()
