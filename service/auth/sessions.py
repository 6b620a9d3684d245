"""Server-side browser sessions (OWASP ASVS 5.0 V7).

The cookie holds 256 random bits; the database holds only their keyed hash. A session has an
absolute expiry (``expires_at``) and an idle expiry (``last_seen_at`` + idle), both checked
against the clock on every request. Signing in always issues a new id and deletes the old one
(no session fixation). ``amr`` records how the session was made (``passkey`` here).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from service import audit
from service.auth.context import AuthContext
from service.db import logouts as logout_rows
from service.db import sessions as session_rows
from service.db.models import Session, User
from service.keys.keyed import new_token

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CurrentSession:
    user: User
    auth_time: datetime
    amr: list[str]
    session_pk: int
    sid: str
    passkey_at: datetime | None = None

    def passkey_recent(self, now: datetime, max_age_seconds: int) -> bool:
        """Whether a passkey confirmed this session recently (sign-in or step-up). A session
        made by an email link has no passkey time until one confirms it."""
        return self.passkey_at is not None and now - self.passkey_at <= timedelta(
            seconds=max_age_seconds
        )


def _hash(ctx: AuthContext, token: str) -> bytes:
    return ctx.keys.hash("session", token)


async def start_session(
    ctx: AuthContext,
    db: AsyncSession,
    user: User,
    *,
    amr: str,
    user_agent: str,
    replacing: str | None,
) -> str:
    """Add a session for ``user`` to the caller's transaction and return the new cookie value.

    The ceremony that signed the user in commits it together with its own writes (the passkey's
    counter, or the new account), so a sign-in is recorded whole or not at all.
    """
    assert user.id is not None
    now = ctx.clock.now()
    sid = new_token()
    if replacing:
        old = await session_rows.take_by_hash(db, _hash(ctx, replacing))
        if old is not None and old[1] == user.id:
            # The same person signing in again in this browser: a new cookie value, the same
            # browser session for the apps it signed into (their refresh tokens live on).
            sid = old[0]
        elif old is not None:
            # Another person signs in here: the apps of the one before hear of their sign-out.
            await logout_rows.owe_for_sessions(db, now, sid=old[0])
    token, row = _new_session(ctx, user, amr=amr, user_agent=user_agent, sid=sid, now=now)
    await session_rows.add(db, row)
    return token


def fresh_session(
    ctx: AuthContext, user: User, *, amr: str, user_agent: str, now: datetime
) -> tuple[str, Session]:
    """What ``start_session`` adds for a browser that holds no session (nothing to replace),
    for a caller that writes the row itself (the passkey sign-in's hot path)."""
    return _new_session(ctx, user, amr=amr, user_agent=user_agent, sid=new_token(), now=now)


def _new_session(
    ctx: AuthContext, user: User, *, amr: str, user_agent: str, sid: str, now: datetime
) -> tuple[str, Session]:
    """A new cookie value and the row that holds its keyed hash."""
    assert user.id is not None
    token = new_token()
    return token, Session(
        token_hash=_hash(ctx, token),
        user_id=user.id,
        created_at=now,
        last_seen_at=now,
        auth_time=now,
        amr=amr,
        expires_at=now + timedelta(seconds=ctx.settings.session_max_seconds),
        user_agent=user_agent[:255],
        sid=sid,
        passkey_at=now if amr == "passkey" else None,
    )


async def resolve_session(ctx: AuthContext, token: str | None) -> CurrentSession | None:
    if not token or len(token) > 128:
        return None
    now = ctx.clock.now()
    idle = timedelta(seconds=ctx.settings.session_idle_seconds)
    async with ctx.db.session() as db:
        found = await session_rows.with_user(db, _hash(ctx, token))
        if found is None:
            return None
        row, user = found
        assert row.id is not None
        if now >= row.expires_at or now >= row.last_seen_at + idle or user.disabled_at:
            await session_rows.delete_by_hash(db, row.token_hash)
            await db.commit()
            return None
        # Write last_seen only every few minutes: one write per request would double the cost
        # of every page view for an idle limit measured in days.
        if now - row.last_seen_at >= timedelta(seconds=ctx.settings.session_touch_seconds):
            await session_rows.touch(db, row.id, now)
            await db.commit()
    return CurrentSession(
        user=user,
        auth_time=row.auth_time,
        amr=row.amr.split(),
        session_pk=row.id,
        sid=row.sid,
        passkey_at=row.passkey_at,
    )


async def end_session(ctx: AuthContext, token: str | None) -> None:
    """Sign out of this browser. Apps that registered a back-channel logout URI and hold a
    grant from this session are owed a logout token, queued in the same commit."""
    if not token:
        return
    async with ctx.db.session() as db:
        ended = await session_rows.take_by_hash(db, _hash(ctx, token))
        if ended is not None:
            await logout_rows.owe_for_sessions(db, ctx.clock.now(), sid=ended[0])
        await db.commit()


async def end_user_sessions(ctx: AuthContext, db: AsyncSession, user_id: int) -> None:
    """Every browser session of a user ends in the caller's transaction, and apps are owed a
    logout token for each session they hold a grant from (Back-Channel Logout 1.0 2.5)."""
    await logout_rows.owe_for_sessions(db, ctx.clock.now(), user_id=user_id)
    await session_rows.delete_for_user(db, user_id)


async def end_all_sessions(ctx: AuthContext, user: User) -> None:
    """ "Sign out everywhere": every browser session of the user ends, and with them the
    refresh tokens apps hold through those sessions."""
    assert user.id is not None
    async with ctx.db.session() as db:
        await end_user_sessions(ctx, db, user.id)
        await audit.record(db, ctx.clock, "sessions.revoked", user_id=user.id)
        await db.commit()


async def confirm_with_passkey(ctx: AuthContext, session: CurrentSession) -> None:
    """Step-up: a passkey just confirmed this session; it now counts as a passkey session."""
    amr = " ".join(dict.fromkeys([*session.amr, "passkey"]))
    async with ctx.db.session() as db:
        await session_rows.mark_passkey(db, session.session_pk, ctx.clock.now(), amr)
        await db.commit()
