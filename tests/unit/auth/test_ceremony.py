"""Ceremony state with the in-memory store and a frozen clock: single use, type, browser, expiry."""

from __future__ import annotations

import pytest

from service.auth import ceremony
from service.auth.context import AuthContext
from service.auth.errors import CeremonyExpired
from service.clock import FrozenClock
from service.db.engine import Database
from service.email.sender import Mailer
from service.keys.keyed import Keyring
from service.keys.sealed import Sealer
from service.keys.signing import Signer
from service.settings import Settings
from service.store import MemoryStore


@pytest.fixture
async def ctx(tmp_path):
    settings = Settings(data_dir=tmp_path, secret_key="k" * 40)
    db = Database(settings.database_url)
    clock = FrozenClock()
    mailer = Mailer(settings, db, clock, Sealer(b"m" * 32))
    signer = Signer(db, clock, b"s" * 32, cache_seconds=0, max_token_seconds=600)
    context = AuthContext(settings, db, MemoryStore(), clock, Keyring(b"k" * 32), mailer, signer)
    yield context
    await db.dispose()


async def test_challenge_is_random_32_bytes_and_single_use(ctx):
    one = await ceremony.begin(ctx, "authenticate", "browser-a")
    two = await ceremony.begin(ctx, "authenticate", "browser-a")
    assert len(one.challenge) == 32 and one.challenge != two.challenge
    taken = await ceremony.take(ctx, one.id, "authenticate", "browser-a")
    assert taken.challenge == one.challenge
    with pytest.raises(CeremonyExpired):
        await ceremony.take(ctx, one.id, "authenticate", "browser-a")


async def test_wrong_type_consumes_and_refuses(ctx):
    started = await ceremony.begin(ctx, "signup", "browser-a", {"username": "ada"})
    with pytest.raises(CeremonyExpired, match="type"):
        await ceremony.take(ctx, started.id, "authenticate", "browser-a")
    with pytest.raises(CeremonyExpired, match="unknown or used"):
        await ceremony.take(ctx, started.id, "signup", "browser-a")


async def test_other_browser_consumes_and_refuses(ctx):
    started = await ceremony.begin(ctx, "register", "browser-a")
    with pytest.raises(CeremonyExpired, match="another browser"):
        await ceremony.take(ctx, started.id, "register", "browser-b")
    with pytest.raises(CeremonyExpired):
        await ceremony.take(ctx, started.id, "register", "browser-a")


async def test_expiry_is_checked_against_the_clock_not_the_store_ttl(ctx):
    timeout = ctx.settings.ceremony_timeout_seconds
    in_time = await ceremony.begin(ctx, "authenticate", "browser-a")
    ctx.clock.advance(timeout - 1)
    assert (await ceremony.take(ctx, in_time.id, "authenticate", "browser-a")).id == in_time.id
    # The store's TTL is longer than the timeout, so only the stored expires_at refuses this.
    late = await ceremony.begin(ctx, "authenticate", "browser-a")
    ctx.clock.advance(timeout)
    with pytest.raises(CeremonyExpired, match="expired"):
        await ceremony.take(ctx, late.id, "authenticate", "browser-a")


async def test_data_round_trips(ctx):
    started = await ceremony.begin(ctx, "signup", "b", {"username": "ada", "n": 1})
    assert (await ceremony.take(ctx, started.id, "signup", "b")).data == {"username": "ada", "n": 1}


@pytest.mark.parametrize("bad_id", ["", "x" * 65])
async def test_malformed_ids_are_refused(ctx, bad_id):
    with pytest.raises(CeremonyExpired):
        await ceremony.take(ctx, bad_id, "signup", "b")
