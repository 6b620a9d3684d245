"""Housekeeping (service.lifecycle): what can no longer be used is removed, what can is kept,
one replica sweeps at a time, and ``sesame prune`` does the same once. Both backends.

The backend's database is shared by the whole test session, so these tests look at their own
rows by id, never at totals."""

from __future__ import annotations

import asyncio
import secrets
from datetime import timedelta

from prometheus_client import REGISTRY
from sqlmodel import select

from service.db import housekeeping
from service.db.models import Consent, Grant, OAuthClient, Session
from service.lifecycle.sweeper import Sweeper, sweep
from service.lifecycle.sweeps import KINDS
from tests.factories import signed_up
from tests.integration.helpers import grants_of_client, sessions_of
from tests.integration.test_oidc_admin import sesame
from tests.integration.test_oidc_sessions import decide
from tests.rp import RelyingParty


async def _user_id(app, client) -> int:
    _, _, username = await signed_up(client)
    (session,) = await sessions_of(app, username)
    return session.user_id


def _session(user_id: int, *, seen, expires) -> Session:
    return Session(
        token_hash=secrets.token_bytes(32),
        user_id=user_id,
        created_at=seen - timedelta(seconds=1),
        last_seen_at=seen,
        auth_time=seen,
        amr="passkey",
        expires_at=expires,
        sid=secrets.token_urlsafe(32),
    )


def _grant(client_pk: int, user_id: int | None, *, now, ends, refresh: bool, revoked=None):
    return Grant(
        gid=secrets.token_urlsafe(32),
        client_pk=client_pk,
        user_id=user_id,
        scope="openid",
        created_at=now - timedelta(days=1),
        expires_at=ends + timedelta(days=5) if refresh else ends,
        refresh_lookup=secrets.token_urlsafe(16)[:22] if refresh else None,
        refresh_hash=secrets.token_bytes(32) if refresh else None,
        refresh_expires_at=ends if refresh else None,
        revoked_at=revoked,
    )


async def _insert(app, *rows) -> list[int]:
    async with app.state.ctx.db.session() as db:
        for row in rows:
            db.add(row)
        await db.commit()
        return [row.id for row in rows]


async def _present(app, model, ids) -> set[int]:
    async with app.state.ctx.db.session() as db:
        found = await db.exec(select(model.id).where(model.id.in_(ids)))
        return set(found.all())


async def _grants_of(app, client_id: str) -> list[str]:
    return [g.gid for g in await grants_of_client(app, client_id)]


async def _sweep(app, clock, **kwargs):
    ctx = app.state.ctx
    return await sweep(ctx.db, clock, ctx.settings, **kwargs)


async def test_sessions_past_their_lifetimes_go_and_live_ones_stay(app, client, clock):
    user_id = await _user_id(app, client)
    now, idle = clock.now(), timedelta(seconds=app.state.ctx.settings.session_idle_seconds)
    second = timedelta(seconds=1)
    past_absolute, inside_absolute, past_idle, inside_idle = await _insert(
        app,
        _session(user_id, seen=now, expires=now - second),
        _session(user_id, seen=now, expires=now + second),
        _session(user_id, seen=now - idle - second, expires=now + idle),
        _session(user_id, seen=now - idle + second, expires=now + idle),
    )
    report = await _sweep(app, clock)
    assert report.counts["sessions"] >= 1 and report.counts["idle_sessions"] >= 1
    ids = [past_absolute, inside_absolute, past_idle, inside_idle]
    assert await _present(app, Session, ids) == {inside_absolute, inside_idle}


async def test_grants_go_once_none_of_their_tokens_can_be_used(app, client, clock):
    user_id = await _user_id(app, client)
    rp = await RelyingParty.register(app)
    async with app.state.ctx.db.session() as db:
        client_pk = (await db.exec(select(OAuthClient.id).where(
            OAuthClient.client_id == rp.client_id))).one()  # fmt: skip
    now = clock.now()
    last_tokens = timedelta(seconds=app.state.ctx.settings.max_token_seconds)
    second = timedelta(seconds=1)
    rows = await _insert(
        app,
        # a refresh token that lapsed, and the last access token issued with it expired too
        _grant(client_pk, user_id, now=now, ends=now - last_tokens - second, refresh=True),
        # lapsed, but an access token issued just before may still be presented
        _grant(client_pk, user_id, now=now, ends=now - last_tokens + second, refresh=True),
        # a live refresh token
        _grant(client_pk, user_id, now=now, ends=now + timedelta(days=3), refresh=True),
        # revoked, still inside the time its tokens could be presented (reuse detection)
        _grant(client_pk, user_id, now=now, ends=now + second, refresh=True, revoked=now),
        # revoked long ago and long lapsed
        _grant(
            client_pk,
            user_id,
            now=now,
            ends=now - timedelta(days=2),
            refresh=True,
            revoked=now - timedelta(days=9),
        ),
        # client_credentials: no refresh token, its access token expired long ago / just now
        _grant(client_pk, None, now=now, ends=now - last_tokens - second, refresh=False),
        _grant(client_pk, None, now=now, ends=now - second, refresh=False),
    )
    report = await _sweep(app, clock, kinds=["grants"])
    assert report.counts == {"grants": report.counts["grants"]} and report.counts["grants"] >= 3
    assert await _present(app, Grant, rows) == {rows[1], rows[2], rows[3], rows[6]}


async def test_a_live_refresh_token_survives_the_sweep_and_a_swept_one_is_refused(
    app, client, clock
):
    browser, _, _ = await signed_up(client)
    rp = await RelyingParty.register(app)
    tokens = await rp.tokens(browser)
    await _sweep(app, clock)
    refreshed = await rp.refresh(tokens["refresh_token"])
    assert refreshed.status_code == 200, refreshed.text
    settings = app.state.ctx.settings
    clock.advance(settings.refresh_idle_seconds + settings.max_token_seconds + 1)
    gids = await _grants_of(app, rp.client_id)
    assert len(gids) == 1
    assert (await _sweep(app, clock)).counts["grants"] >= 1
    assert await _grants_of(app, rp.client_id) == []
    refused = await rp.refresh(refreshed.json()["refresh_token"])
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"


async def test_batches_remove_everything_and_a_dry_run_removes_nothing(app, client, clock):
    user_id = await _user_id(app, client)
    now = clock.now()
    ids = await _insert(
        app, *(_session(user_id, seen=now, expires=now - timedelta(seconds=5)) for _ in range(7))
    )
    dry = await _sweep(app, clock, kinds=["sessions"], dry_run=True)
    assert dry.counts["sessions"] >= 7
    assert await _present(app, Session, ids) == set(ids)
    small = app.state.ctx.settings.model_copy(update={"sweep_batch": 2})
    counted = REGISTRY.get_sample_value("sesame_swept_rows_total", {"kind": "sessions"}) or 0
    report = await sweep(app.state.ctx.db, clock, small, kinds=["sessions"])
    assert report.counts["sessions"] >= 7
    assert await _present(app, Session, ids) == set()
    now_counted = REGISTRY.get_sample_value("sesame_swept_rows_total", {"kind": "sessions"})
    assert now_counted == counted + report.counts["sessions"]


async def test_one_replica_sweeps_at_a_time(app, client, clock, backend):
    user_id = await _user_id(app, client)
    now = clock.now()
    (expired,) = await _insert(app, _session(user_id, seen=now, expires=now - timedelta(1)))
    if backend.name == "postgres":
        async with app.state.ctx.db.engine.connect() as other_replica:
            assert await housekeeping.try_lock(other_replica)
            # Another replica holds the advisory lock: this one skips the round.
            report = await _sweep(app, clock)
            assert report.skipped and report.counts == {}
            assert await _present(app, Session, [expired]) == {expired}
            await housekeeping.unlock(other_replica)
    else:
        # The embedded default has no other replica to wait for.
        async with app.state.ctx.db.engine.connect() as conn:
            assert await housekeeping.try_lock(conn)
    both = await asyncio.gather(_sweep(app, clock), _sweep(app, clock))
    assert not all(r.skipped for r in both)
    assert await _present(app, Session, [expired]) == set()


async def test_the_background_sweeper_runs_as_the_app_starts(app, client, clock):
    user_id = await _user_id(app, client)
    now = clock.now()
    (expired,) = await _insert(app, _session(user_id, seen=now, expires=now - timedelta(1)))
    ctx = app.state.ctx
    sweeper = Sweeper(ctx.db, clock, ctx.settings)
    sweeper.start()
    try:
        for _ in range(200):
            if not await _present(app, Session, [expired]):
                break
            await asyncio.sleep(0.05)
    finally:
        await sweeper.stop()
    assert await _present(app, Session, [expired]) == set()


async def test_consents_of_a_deleted_client_go_with_it(app, client):
    browser, _, _ = await signed_up(client)
    rp, flow, allowed = await decide(app, browser, "allow")
    flow = await rp.follow_to_app(browser, allowed, flow)
    assert (await rp.exchange(flow)).status_code == 200
    async with app.state.ctx.db.session() as db:
        pk = (await db.exec(select(OAuthClient.id).where(
            OAuthClient.client_id == rp.client_id))).one()  # fmt: skip
        before = (await db.exec(select(Consent.id).where(Consent.client_pk == pk))).all()
    assert before
    from service.oidc.clients import delete_client

    assert await delete_client(app.state.oidc, rp.client_id)
    assert await _present(app, Consent, list(before)) == set()


def test_sesame_prune_counts_then_removes(backend, app):
    dry = sesame(backend, "prune", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    for kind in KINDS:
        assert f"{kind}" in dry.stdout
    assert "would remove" in dry.stdout
    done = sesame(backend, "prune", "--kind", "sessions")
    assert done.returncode == 0, done.stderr
    assert "sessions" in done.stdout and "grants" not in done.stdout
    assert "sesame: removed " in done.stdout
    assert sesame(backend, "prune", "--kind", "nothing").returncode == 2
    audit = sesame(backend, "audit", "prune")
    assert audit.returncode == 0 and "audit events older than 365 days" in audit.stdout
