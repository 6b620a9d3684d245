"""Redis store: shared by every Sesame process, so ceremonies and limits hold across workers."""

from __future__ import annotations

from typing import cast

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from service.store.base import CLAIMED, REPLAYED, StoreUnavailable
from service.store.redis_hot import KeptConnections

# ``claim`` in one atomic step (a script runs alone on the server): nothing for an absent key,
# CLAIMED -> REPLAYED keeping the tombstone and the expiry, a live value -> CLAIMED + tombstone.
_CLAIM = """
local v = redis.call('GET', KEYS[1])
if not v then return false end
local claimed, replayed = ARGV[1], ARGV[2]
if string.sub(v, 1, #claimed) == claimed then
  redis.call('SET', KEYS[1], replayed .. string.sub(v, #claimed + 1), 'KEEPTTL')
elseif string.sub(v, 1, #replayed) ~= replayed then
  redis.call('SET', KEYS[1], claimed .. ARGV[3], 'EX', ARGV[4])
end
return v
"""

# ``release``: the value back only while the key holds exactly this claim's tombstone.
_RELEASE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1
"""

# ``throttle``: GCRA on the server's clock, so every worker and replica shares one budget. The
# key holds the theoretical arrival time in microseconds and expires when it is in the past.
# With a second key (``put_within``), the value is set only when the request fits.
_THROTTLE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local window = tonumber(ARGV[2]) * 1000000
local interval = window / tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local allowed_at = tat - (window - interval)
if now < allowed_at then return tostring(allowed_at - now) end
if ARGV[3] ~= '1' then
  redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.ceil((new_tat - now) / 1000))
end
if KEYS[2] then redis.call('SET', KEYS[2], ARGV[4], 'EX', ARGV[5]) end
return '0'
"""


class RedisStore:
    def __init__(self, client: Redis, prefix: str) -> None:
        self._redis = client
        self._prefix = prefix
        self._claim = client.register_script(_CLAIM)
        self._release = client.register_script(_RELEASE)
        self._throttle = client.register_script(_THROTTLE)
        # Single commands go through kept connections (service.store.redis_hot); the pipeline
        # and the ping through the client.
        self._hot = KeptConnections(client.connection_pool)

    @classmethod
    def from_url(cls, url: str, prefix: str) -> RedisStore:
        client = Redis.from_url(
            url,
            socket_timeout=2,
            socket_connect_timeout=2,
            # A command on a connection that died while Redis restarted is tried once more on a
            # fresh one, after a short pause; a Redis that is really away still answers 503
            # within the socket timeouts, not after a long backoff.
            retry=Retry(ExponentialBackoff(cap=0.25, base=0.05), retries=1),
            retry_on_error=[RedisConnectionError, RedisTimeoutError],
            # Idle pooled connections are checked before use, so an old one is never handed out.
            health_check_interval=5,
        )
        return cls(client, prefix)

    async def put(self, key: str, value: bytes, ttl_seconds: int) -> None:
        try:
            await self._hot.call("SET", self._prefix + key, value, "EX", ttl_seconds)
        except RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def take(self, key: str) -> bytes | None:
        try:
            # GETDEL (Redis >= 6.2) reads and deletes in one atomic step.
            return cast(bytes | None, await self._hot.call("GETDEL", self._prefix + key))
        except RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def claim(self, key: str, tombstone: bytes, ttl_seconds: int) -> bytes | None:
        try:
            previous = await self._hot.script(
                self._claim, [self._prefix + key], [CLAIMED, REPLAYED, tombstone, ttl_seconds]
            )
            return cast(bytes | None, previous)
        except RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def release(self, key: str, tombstone: bytes, value: bytes, ttl_seconds: int) -> bool:
        try:
            done = await self._hot.script(
                self._release, [self._prefix + key], [CLAIMED + tombstone, value, ttl_seconds]
            )
        except RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc
        return bool(done)

    async def get(self, key: str) -> bytes | None:
        try:
            return cast(bytes | None, await self._hot.call("GET", self._prefix + key))
        except RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def delete(self, key: str) -> None:
        try:
            await self._hot.call("DEL", self._prefix + key)
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
            return max(0, int(await self._hot.call("TTL", self._prefix + key)))
        except RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def throttle(
        self, key: str, limit: int, window_seconds: int, *, peek: bool = False
    ) -> float:
        try:
            wait = await self._hot.script(
                self._throttle, [self._prefix + key], [limit, window_seconds, "1" if peek else "0"]
            )
        except RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc
        return float(wait) / 1_000_000

    async def put_within(
        self,
        key: str,
        value: bytes,
        ttl_seconds: int,
        budget_key: str,
        limit: int,
        window_seconds: int,
    ) -> float:
        try:
            wait = await self._hot.script(
                self._throttle,
                [self._prefix + budget_key, self._prefix + key],
                [limit, window_seconds, "0", value, ttl_seconds],
            )
        except RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc
        return float(wait) / 1_000_000

    async def ping(self) -> None:
        try:
            await self._redis.ping()
        except RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def close(self) -> None:
        await self._hot.close()
        await self._redis.aclose()
