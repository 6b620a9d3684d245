"""The hot paths' writes on the driver's connection (service.db.hot), on both backends: the
passkey sign-in's three writes are one unit guarded by the counter's compare-and-set, and the
grant insert is refused, with nothing written, for a disabled account or a grant a code's replay
revoked ahead of it."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlmodel import func, select

from service import audit
from service.auth.sessions import fresh_session
from service.db import clients as client_rows
from service.db import grants as grant_rows
from service.db import hot, signins
from service.db import sessions as sessions_rows
from service.db.engine import sqlite3_of
from service.db.models import AuditEvent, Grant, Session, User
from tests.factories import Browser, new_username
from tests.integration.helpers import credentials_of
from tests.rp import RelyingParty
from tests.softauthn import SoftAuthenticator


async def counts(app, user_id):
    async with app.state.ctx.db.session() as db:
        sessions = (await db.exec(select(func.count()).where(Session.user_id == user_id))).one()
        events = (
            await db.exec(
                select(func.count()).where(
                    AuditEvent.user_id == user_id, AuditEvent.kind == "signin.passkey"
                )
            )
        ).one()
        grants = (await db.exec(select(func.count()).where(Grant.user_id == user_id))).one()
    return sessions, events, grants


async def signed_up(app, client):
    username = new_username()
    assert (await Browser(client).signup(SoftAuthenticator(), username=username)).status_code == 200
    (credential,) = await credentials_of(app, username)
    async with app.state.ctx.db.session() as db:
        user = (await db.exec(select(User).where(User.id == credential.user_id))).one()
    return credential, user


async def test_a_signin_writes_all_three_once_per_counter_value(app, client):
    ctx = app.state.ctx
    credential, user = await signed_up(app, client)
    before = await counts(app, user.id)
    now = ctx.clock.now() + timedelta(seconds=1)

    async def attempt(new_count):
        _, row = fresh_session(ctx, user, amr="passkey", user_agent="ua", now=now)
        event = audit.event("signin.passkey", now, user_id=user.id)
        async with hot.connect(ctx.db) as conn:
            return await signins.record_signin(
                conn, credential_pk=credential.id, previous_count=credential.sign_count,
                new_count=new_count, backup_state=False, at=now, session=row, event=event,
            )  # fmt: skip

    assert await attempt(credential.sign_count + 5) is True
    # The same stored counter again (a concurrent or replayed use): nothing at all written.
    assert await attempt(credential.sign_count + 9) is False
    sessions, events, _ = await counts(app, user.id)
    assert (sessions, events) == (before[0] + 1, before[1] + 1)
    (stored,) = await credentials_of(app, user.username)
    assert (stored.sign_count, stored.last_used_at) == (credential.sign_count + 5, now)


async def a_grant_for(app, user, gid="g" * 43):
    """An app's current row and an unwritten grant of ``user``'s tokens for it."""
    ctx = app.state.ctx
    registered = await RelyingParty.register(app)
    async with ctx.db.session() as db:
        app_row = await client_rows.by_client_id(db, registered.client_id)
    assert app_row is not None and app_row.id is not None
    now = ctx.clock.now()
    grant = Grant(
        gid=gid, client_pk=app_row.id, user_id=user.id, sid="s", scope="openid",
        created_at=now, expires_at=now + timedelta(hours=1),
    )  # fmt: skip
    return app_row, grant


async def test_no_grant_is_written_for_a_disabled_account(app, client):
    ctx = app.state.ctx
    _, user = await signed_up(app, client)
    async with ctx.db.session() as db:
        row = (await db.exec(select(User).where(User.id == user.id))).one()
        row.disabled_at = ctx.clock.now()
        db.add(row)
        await db.commit()
    app_row, grant = await a_grant_for(app, user)
    async with hot.connect(ctx.db) as conn:
        assert await grant_rows.issue_for_user(conn, grant, app_row) is None
    assert (await counts(app, user.id))[2] == 0


async def test_a_transaction_cut_short_writes_nothing_and_frees_the_connection(app, client):
    """A failure between the statements of a hot transaction (here: after the session's insert)
    rolls all of it back, and the connection goes back to the pool with nothing open: the next
    user of it (the ORM here) sees no trace and can write."""
    ctx = app.state.ctx
    _, user = await signed_up(app, client)
    before = await counts(app, user.id)
    _, row = fresh_session(ctx, user, amr="passkey", user_agent="ua", now=ctx.clock.now())
    try:
        async with hot.connect(ctx.db) as conn, conn.transaction():
            await sessions_rows.insert(conn, row)
            raise RuntimeError("cut short")
    except RuntimeError:
        pass
    assert await counts(app, user.id) == before
    async with ctx.db.session() as db:
        db.add(audit.event("signin.passkey", ctx.clock.now(), user_id=user.id))
        await db.commit()
    assert (await counts(app, user.id))[1] == before[1] + 1


async def test_a_connection_returned_mid_transaction_is_rolled_back(app, backend, client):
    """SQLite's pool skips the rollback-on-return when nothing is open (a thread hop saved per
    hot-path use); a connection returned with a transaction open is still rolled back, on
    both backends, and the next user of it starts clean."""
    ctx = app.state.ctx
    _, user = await signed_up(app, client)
    before = await counts(app, user.id)
    assert before[0] == 1
    async with ctx.db.engine.connect() as conn:
        raw = await conn.get_raw_connection()
        if backend.name == "embedded":
            sqlite3_of(raw).execute("BEGIN")
            sqlite3_of(raw).execute("DELETE FROM sessions WHERE user_id = ?", (user.id,))
        else:
            await raw.driver_connection.execute("BEGIN")
            await raw.driver_connection.execute("DELETE FROM sessions WHERE user_id = $1", user.id)
    assert await counts(app, user.id) == before
    if backend.name == "embedded":
        async with ctx.db.engine.connect() as conn:
            assert not sqlite3_of(await conn.get_raw_connection()).in_transaction


async def test_a_row_read_on_the_hot_path_is_the_orm_s_row(app, rp):
    """``Statement.instances`` builds model objects without their constructor: every field,
    the values' types and pydantic's view of the object are what the ORM's read gives."""
    from service.db import clients as client_rows

    async with app.state.ctx.db.session() as session:
        by_orm = await client_rows.by_client_id(session, rp.client_id)
    async with hot.connect(app.state.ctx.db) as conn:
        by_hot = await client_rows.find(conn, rp.client_id)
        assert await client_rows.find(conn, "nobody") is None
    assert by_orm is not None and by_hot is not None
    assert type(by_hot) is type(by_orm)
    assert by_hot.model_dump() == by_orm.model_dump()
    assert by_hot.model_dump(exclude_unset=True) == by_orm.model_dump()
    assert {k: type(v) for k, v in by_hot.model_dump().items()} == {
        k: type(v) for k, v in by_orm.model_dump().items()
    }
    assert by_hot.client_id == rp.client_id and by_hot.id == by_orm.id


async def grant_row(app, gid):
    async with app.state.ctx.db.session() as db:
        return (await db.exec(select(Grant).where(Grant.gid == gid))).one()


async def test_a_grant_revoked_ahead_is_not_written_and_its_insert_says_so(app, client):
    """RFC 6749 4.1.2: a code's replay that finds its first exchange's grant not yet written
    writes it revoked (``revoke_ahead``). The grant's own insert, arriving while that write is
    still open, waits for it (PostgreSQL: the unique gid; SQLite: the one connection), then
    writes nothing and raises ``Forestalled``; the row stays the revoked placeholder."""
    ctx = app.state.ctx
    _, user = await signed_up(app, client)
    app_row, grant = await a_grant_for(app, user, gid="a" * 43)
    now = ctx.clock.now()

    async def insert():
        async with hot.connect(ctx.db) as conn:
            return await grant_rows.issue_for_user(conn, grant, app_row)

    async with ctx.db.session() as db:
        await grant_rows.revoke_ahead(db, grant.gid, app_row.id, now, now + timedelta(minutes=10))
        inserting = asyncio.ensure_future(insert())
        await asyncio.sleep(0.3)
        assert not inserting.done()  # waiting for the replay's write to end
        await db.commit()
    with pytest.raises(grant_rows.Forestalled):
        await inserting
    placeholder = await grant_row(app, grant.gid)
    assert placeholder.revoked_at is not None and placeholder.user_id is None
    assert (await counts(app, user.id))[2] == 0


async def test_a_grant_being_written_is_revoked_by_a_replay_that_waits_for_it(app, client):
    """The other order: the grant's write is open when the replay's revocation comes. The
    revocation waits for it to commit, then revokes the grant itself (not a placeholder)."""
    ctx = app.state.ctx
    _, user = await signed_up(app, client)
    app_row, grant = await a_grant_for(app, user, gid="b" * 43)
    now = ctx.clock.now()

    async def revoke():
        async with ctx.db.session() as db:
            until = now + timedelta(minutes=10)
            await grant_rows.revoke_ahead(db, grant.gid, app_row.id, now, until)
            await db.commit()

    async with ctx.db.session() as db:
        db.add(grant)
        await db.flush()
        revoking = asyncio.ensure_future(revoke())
        await asyncio.sleep(0.3)
        assert not revoking.done()  # waiting for the grant's write to end
        await db.commit()
    await revoking
    written = await grant_row(app, grant.gid)
    assert written.revoked_at is not None and written.user_id == user.id
    assert (await counts(app, user.id))[2] == 1
