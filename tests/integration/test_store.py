"""Both ephemeral stores pass the same tests; Redis runs against the real server."""

from __future__ import annotations

import asyncio
import secrets

import pytest

from service.store import MemoryStore, StoreUnavailable
from service.store.base import CLAIMED, REPLAYED
from service.store.redis import RedisStore
from tests.conftest import REDIS_URL, require_redis


@pytest.fixture(params=["memory", "redis"])
async def store(request):
    if request.param == "memory":
        impl = MemoryStore()
    else:
        require_redis()
        impl = RedisStore.from_url(REDIS_URL, prefix=f"sesame-test-{secrets.token_hex(4)}:")
    yield impl
    await impl.close()


async def test_put_get_take(store):
    await store.put("k", b"v", 60)
    assert await store.get("k") == b"v"
    assert await store.take("k") == b"v"
    assert await store.take("k") is None
    assert await store.get("k") is None


async def test_put_replaces(store):
    await store.put("k", b"one", 60)
    await store.put("k", b"two", 60)
    assert await store.take("k") == b"two"


async def test_concurrent_takes_have_one_winner(store):
    await store.put("once", b"secret", 60)
    results = await asyncio.gather(*(store.take("once") for _ in range(20)))
    assert results.count(b"secret") == 1
    assert results.count(None) == 19


async def test_claim_uses_a_value_once_and_remembers_the_replay(store):
    # Red-team finding: a value that was never issued must leave no trace when claimed.
    assert await store.claim("never-issued", b"g0", 60) is None
    assert await store.get("never-issued") is None
    await store.put("code", b"original", 60)
    results = await asyncio.gather(*(store.claim("code", b"g1", 60) for _ in range(10)))
    assert results.count(b"original") == 1
    # The first replay sees the winner's tombstone; later ones see it marked replayed.
    assert results.count(CLAIMED + b"g1") == 1
    assert results.count(REPLAYED + b"g1") == 8
    assert await store.get("code") == REPLAYED + b"g1"


async def test_release_gives_a_claimed_value_back_unless_a_replay_came(store):
    await store.put("code", b"original", 60)
    assert await store.claim("code", b"g1", 60) == b"original"
    # Only the claim's own tombstone is undone.
    assert await store.release("code", b"g2", b"original", 30) is False
    assert await store.get("code") == CLAIMED + b"g1"
    assert await store.release("code", b"g1", b"original", 30) is True
    assert 0 < await store.ttl("code") <= 30
    assert await store.claim("code", b"g3", 60) == b"original"
    # A replay recorded meanwhile: the value stays used.
    assert await store.claim("code", b"g4", 60) == CLAIMED + b"g3"
    assert await store.release("code", b"g3", b"original", 30) is False
    assert await store.get("code") == REPLAYED + b"g3"
    assert await store.release("gone", b"g1", b"original", 30) is False
    assert await store.get("gone") is None


async def test_values_expire(store):
    await store.put("short", b"v", 1)
    await asyncio.sleep(1.2)
    assert await store.get("short") is None
    assert await store.take("short") is None


async def test_incr_counts_and_expires(store):
    assert [await store.incr("n", 1) for _ in range(3)] == [1, 2, 3]
    await asyncio.sleep(1.2)
    assert await store.incr("n", 1) == 1


async def test_ttl_counts_down_from_the_first_increment(store):
    assert await store.ttl("nothing") == 0
    await store.incr("limited", 60)
    await store.incr("limited", 60)
    assert 55 <= await store.ttl("limited") <= 60


async def test_delete(store):
    await store.put("d", b"v", 60)
    await store.delete("d")
    assert await store.get("d") is None


async def test_unreachable_redis_raises_store_unavailable():
    impl = RedisStore.from_url("redis://127.0.0.1:1/0", prefix="x:")
    with pytest.raises(StoreUnavailable):
        await impl.put("k", b"v", 5)
    await impl.close()


async def test_throttle_lets_the_limit_through_at_once_then_one_per_interval(store):
    # 5 per 2 seconds: five at once, the sixth told to wait about 2/5 s, never counted.
    waits = [await store.throttle("t", 5, 2) for _ in range(5)]
    assert waits == [0, 0, 0, 0, 0]
    sixth = await store.throttle("t", 5, 2)
    assert 0.3 < sixth <= 0.4
    assert 0.3 < await store.throttle("t", 5, 2, peek=True) <= 0.4
    await asyncio.sleep(sixth + 0.02)
    assert await store.throttle("t", 5, 2, peek=True) == 0  # peeking counts nothing
    assert await store.throttle("t", 5, 2) == 0
    assert await store.throttle("t", 5, 2) > 0
    # Another key has its own budget.
    assert await store.throttle("other", 5, 2) == 0


async def test_concurrent_requests_spend_a_budget_exactly_once(store):
    waits = await asyncio.gather(*(store.throttle("burst", 10, 60) for _ in range(30)))
    assert sum(1 for w in waits if w == 0) == 10
    assert all(0 < w <= 60 for w in waits if w)


async def test_a_spent_budget_is_forgotten_once_it_refilled(store):
    assert await store.throttle("short", 1, 1) == 0
    assert await store.throttle("short", 1, 1) > 0
    await asyncio.sleep(1.05)
    assert await store.get("short") is None  # the key expired with the budget refilled
    assert await store.throttle("short", 1, 1) == 0


async def test_the_in_process_store_stays_bounded_under_a_flood_of_addresses():
    store = MemoryStore(max_entries=1000)
    await store.put("ceremony", b"kept", 60)
    for i in range(10_000):
        await store.throttle(f"rate:ip:{i}", 5, 60)
    assert len(store) <= 1000
    # What was forgotten first is the oldest; the newest budgets are still counted.
    assert await store.throttle("rate:ip:9999", 1, 60) > 0


@pytest.mark.parametrize("limit, window", [(1, 900), (3, 7), (20, 900), (7, 60)])
async def test_a_fresh_budget_is_never_refused_by_rounding(store, limit, window):
    # Red-team of our own: tat + interval - window rounded a hair above now refused a first
    # request with "try again in 1 seconds".
    for i in range(200):
        assert await store.throttle(f"fresh-{i}", limit, window) == 0


async def test_put_within_stores_only_what_the_budget_has_room_for(store):
    assert await store.put_within("c1", b"one", 60, "budget", 2, 60) == 0
    assert await store.put_within("c2", b"two", 60, "budget", 2, 60) == 0
    wait = await store.put_within("c3", b"three", 60, "budget", 2, 60)
    assert 0 < wait <= 30
    assert await store.get("c1") == b"one"
    assert await store.get("c2") == b"two"
    assert await store.get("c3") is None  # refused: nothing written
    # Concurrent: exactly the budget's worth stored.
    waits = await asyncio.gather(
        *(store.put_within(f"d{i}", b"x", 60, "burst", 5, 60) for i in range(20))
    )
    stored = [i for i in range(20) if await store.get(f"d{i}") is not None]
    assert len(stored) == 5
    assert sorted(i for i, w in enumerate(waits) if w == 0) == stored
