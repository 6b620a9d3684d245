"""The Redis store's single commands on kept connections (``service.store.redis_hot``), against
the real server: reused, replaced when the server dropped them, never shared with a reply
still in flight, and scripts reloaded after the server forgot them."""

from __future__ import annotations

import asyncio
import secrets

import pytest
from redis.asyncio import Redis

from service.store.base import CLAIMED
from service.store.redis import RedisStore
from service.store.redis_hot import KEEP
from tests.conftest import REDIS_URL, require_redis


@pytest.fixture
async def store():
    require_redis()
    impl = RedisStore.from_url(REDIS_URL, prefix=f"sesame-test-{secrets.token_hex(4)}:")
    yield impl
    await impl.close()


@pytest.fixture
async def admin():
    client = Redis.from_url(REDIS_URL)
    yield client
    await client.aclose()


async def client_id(store: RedisStore) -> int:
    return int(await store._hot.call("CLIENT", "ID"))


async def test_sequential_commands_share_one_connection(store):
    first = await client_id(store)
    for n in range(20):
        await store.put(f"k{n}", b"v%d" % n, 30)
        assert await store.get(f"k{n}") == b"v%d" % n
        assert await store.take(f"k{n}") == b"v%d" % n
    assert await client_id(store) == first


async def test_concurrent_commands_each_get_their_own_reply(store):
    await asyncio.gather(*(store.put(f"k{n}", b"v%d" % n, 30) for n in range(100)))
    values = await asyncio.gather(*(store.get(f"k{n}") for n in range(100)))
    assert values == [b"v%d" % n for n in range(100)]
    assert 1 <= len(store._hot._idle) <= KEEP


async def test_a_connection_the_server_dropped_is_replaced_without_an_error(store, admin):
    await store.put("k", b"v", 30)
    dropped = await client_id(store)
    assert await admin.client_kill_filter(_id=dropped) == 1
    assert await store.get("k") == b"v"  # retried once on a fresh connection
    assert await client_id(store) != dropped


async def test_a_command_cancelled_mid_reply_does_not_leave_its_reply_to_the_next(store):
    await store.put("k", b"v", 30)
    blocked = asyncio.create_task(store._hot.call("BLPOP", "sesame-test-empty", "0.3"))
    await asyncio.sleep(0.05)  # BLPOP sent, its reply (nil, in 0.3 s) not read yet
    blocked.cancel()
    with pytest.raises(asyncio.CancelledError):
        await blocked
    await asyncio.sleep(0.4)  # the nil reply has been sent by now, to a closed connection
    assert await store.get("k") == b"v"
    assert await store.take("k") == b"v"
    assert await store.get("k") is None


async def test_scripts_the_server_forgot_are_loaded_again(store, admin):
    await store.put("code", b"grant", 30)
    await admin.script_flush()  # what a Redis restart does
    assert await store.claim("code", b"t", 30) == b"grant"
    await admin.script_flush()
    assert (await store.claim("code", b"t", 30) or b"").startswith(CLAIMED)
    await admin.script_flush()
    assert await store.throttle("budget", 1, 60) == 0.0
    assert await store.throttle("budget", 1, 60) > 0
