"""The hot paths' writes on the driver's connection (service.db.hot), on both backends: the
passkey sign-in's three writes are one unit guarded by the counter's compare-and-set, and the
grant insert is refused, with nothing written, for a disabled account."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import func, select

from service import audit
from service.auth.sessions import fresh_session
from service.db import grants as grant_rows
from service.db import hot, signins
from service.db.models import AuditEvent, Grant, Session, User
from tests.factories import Browser, new_username
from tests.integration.helpers import credentials_of
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


async def test_no_grant_is_written_for_a_disabled_account(app, client):
    ctx = app.state.ctx
    _, user = await signed_up(app, client)
    async with ctx.db.session() as db:
        row = (await db.exec(select(User).where(User.id == user.id))).one()
        row.disabled_at = ctx.clock.now()
        db.add(row)
        await db.commit()
    now = ctx.clock.now()
    grant = Grant(
        gid="g" * 43, client_pk=1, user_id=user.id, sid="s", scope="openid",
        created_at=now, expires_at=now + timedelta(hours=1),
    )  # fmt: skip
    async with hot.connect(ctx.db) as conn:
        assert await grant_rows.issue_for_user(conn, grant) is None
    assert (await counts(app, user.id))[2] == 0
