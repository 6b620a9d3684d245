"""The passkey sign-in's writes, together: the passkey's counter (compare-and-set), the new
browser session and its audit event. On PostgreSQL one statement (data-modifying CTEs: one
round trip, atomic on its own); on SQLite a transaction of the three statements."""

from __future__ import annotations

from datetime import datetime

from service.db import audit as audit_rows
from service.db import credentials
from service.db import sessions as session_rows
from service.db.hot import HotConnection, Statement, columns, typed_param
from service.db.models import AuditEvent, PasskeyCredential, Session

_USE = ("sign_count", "backup_state", "last_used_at", "id")  # $1-$4, then $5: the old count
_SESSION = ("token_hash", "expires_at", "user_agent", "sid")  # $6-$9
_EVENT = ("kind", "actor", "ip", "user_agent", "detail")  # $10-$14
_s = [typed_param(6 + i, c) for i, c in enumerate(columns(Session, *_SESSION))]
_e = [typed_param(10 + i, c) for i, c in enumerate(columns(AuditEvent, *_EVENT))]
# Created, last seen, authenticated and passkey-confirmed all at the time of use ($3).
_RECORD = Statement(
    "WITH used AS (UPDATE passkey_credentials"  # noqa: S608 (our own column types)
    " SET sign_count = $1, backup_state = $2, last_used_at = $3"
    " WHERE id = $4 AND sign_count = $5 RETURNING user_id),"
    " started AS (INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at,"
    " auth_time, amr, expires_at, user_agent, sid, passkey_at)"
    f" SELECT {_s[0]}, used.user_id, $3, $3, $3, 'passkey', {_s[1]}, {_s[2]}, {_s[3]}, $3"
    " FROM used RETURNING user_id)"
    " INSERT INTO audit_events (at, kind, user_id, actor, ip, user_agent, detail)"
    f" SELECT $3, {_e[0]}, started.user_id, {_e[1]}, {_e[2]}, {_e[3]}, {_e[4]} FROM started",
    [
        *columns(PasskeyCredential, *_USE, "sign_count"),
        *columns(Session, *_SESSION),
        *columns(AuditEvent, *_EVENT),
    ],
)


async def record_signin(
    conn: HotConnection,
    *,
    credential_pk: int,
    previous_count: int,
    new_count: int,
    backup_state: bool,
    at: datetime,
    session: Session,
    event: AuditEvent,
) -> bool:
    """Write all three if the passkey's counter is still ``previous_count``; nothing (False)
    when another use came first. ``session`` and ``event`` are made for the time ``at``."""
    assert session.created_at == at and event.at == at and session.amr == "passkey"
    if conn.dialect == "postgresql":
        written = await conn.execute(
            _RECORD,
            new_count, backup_state, at, credential_pk, previous_count,
            *(getattr(session, name) for name in _SESSION),
            *(getattr(event, name) for name in _EVENT),
        )  # fmt: skip
        return written == 1
    async with conn.transaction():
        if not await credentials.record_use_hot(
            conn,
            credential_pk,
            previous_count=previous_count,
            new_count=new_count,
            backup_state=backup_state,
            at=at,
        ):
            return False
        await session_rows.insert(conn, session)
        await audit_rows.insert(conn, event)
    return True
