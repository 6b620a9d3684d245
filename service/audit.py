"""The audit trail: events recorded in the same transaction as what they describe, with the
actor, client address and user agent of the request that caused them.

The http layer puts the request's address and user agent in a context variable once per
request; the functions that change things only say what happened.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar, Token
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from service.clock import Clock
from service.db import audit as audit_rows
from service.db.engine import Database
from service.db.models import AuditEvent
from service.i18n import N_

# What a person sees on their account page is marked for translation (``service.i18n``);
# what only operators see stays in English.
KINDS = {
    "signin.passkey": N_("Signed in with a passkey"),
    "signin.passkey.failed": N_("A passkey sign-in failed"),
    "signin.email": N_("Signed in with an email link or code"),
    "signin.email.failed": N_("An email sign-in failed"),
    "signup": N_("Account created"),
    "invitation.accepted": N_("Invitation accepted"),
    "passkey.added": N_("Passkey added"),
    "passkey.removed": N_("Passkey removed"),
    "step_up": N_("Confirmed with a passkey"),
    "email.changed": N_("Email address changed"),
    "email.verified": N_("Email address confirmed"),
    "consent.given": N_("App allowed"),
    "consent.revoked": N_("App access removed"),
    "tokens.revoked": N_("App tokens revoked"),
    "user.disabled": N_("Account disabled by an administrator"),
    "user.enabled": N_("Account enabled by an administrator"),
    "user.deleted": N_("Account deleted"),
    "user.admin_granted": N_("Made an administrator"),
    "user.admin_revoked": N_("Administrator role removed"),
    "account.exported": N_("Your data downloaded"),
    "sessions.revoked": N_("Signed out everywhere"),
    "group.member_added": N_("Added to a group by an administrator"),
    "group.member_removed": N_("Removed from a group by an administrator"),
    "app.refused": N_("An app refused your account (not in its groups)"),
    "client.created": "Client registered",
    "client.deleted": "Client deleted",
    "client.secret_rotated": "Client secret rotated",
    "client.updated": "Client settings changed",
    "keys.rotated": "Signing keys rotated",
    "tenant.created": "Passkey API tenant registered",
    "tenant.deleted": "Passkey API tenant deleted",
    "tenant.key_added": "Passkey API key added",
    "tenant.key_revoked": "Passkey API key revoked",
    "api.created": "API registered",
    "api.deleted": "API deleted",
    "api.roles_changed": "API roles changed",
    "group.created": "Group created",
    "group.deleted": "Group deleted",
    "invitation.sent": "Invitation sent",
    "webhook.created": "Webhook created",
    "webhook.deleted": "Webhook deleted",
    "webhook.secret_rotated": "Webhook secret rotated",
}


@dataclass(frozen=True)
class RequestInfo:
    ip: str
    user_agent: str


_request: ContextVar[RequestInfo | None] = ContextVar("sesame_request", default=None)


def bind_request(ip: str, user_agent: str) -> Token[RequestInfo | None]:
    return _request.set(RequestInfo(ip[:45], user_agent[:255]))


def unbind_request(token: Token[RequestInfo | None]) -> None:
    _request.reset(token)


def event(
    kind: str, at: datetime, *, user_id: int | None, actor: str = "user", detail: str = ""
) -> AuditEvent:
    assert kind in KINDS, kind
    info = _request.get()
    return AuditEvent(
        at=at,
        kind=kind,
        user_id=user_id,
        actor=actor[:100],
        ip=info.ip if info else "",
        user_agent=info.user_agent if info else "",
        detail=detail[:500],
    )


async def record(
    db: AsyncSession,
    clock: Clock,
    kind: str,
    *,
    user_id: int | None,
    actor: str = "user",
    detail: str = "",
) -> None:
    """Joins the caller's transaction."""
    await audit_rows.add(db, event(kind, clock.now(), user_id=user_id, actor=actor, detail=detail))


async def record_alone(database: Database, clock: Clock, kind: str, **fields: Any) -> None:
    """For what has no transaction of its own to join (a refused attempt); ``fields`` as for
    :func:`record`."""
    async with database.session() as db:
        await record(db, clock, kind, **fields)
        await db.commit()


async def record_removal(
    db: AsyncSession, clock: Clock, removed: bool, kind: str, *, actor: str, detail: str
) -> bool:
    """An operator's removal, recorded only when there was something to remove; joins the
    caller's transaction and returns ``removed``."""
    if removed:
        await record(db, clock, kind, user_id=None, actor=actor, detail=detail)
    return removed


async def removal(
    database: Database,
    clock: Clock,
    kind: str,
    remove: Callable[[AsyncSession, str], Awaitable[bool]],
    key: str,
    *,
    actor: str,
) -> bool:
    """``remove(db, key)`` and its audit event (detail: the key), in one transaction of its
    own; returns whether there was something to remove."""
    async with database.session() as db:
        removed = await remove(db, key)
        await record_removal(db, clock, removed, kind, actor=actor, detail=key)
        await db.commit()
    return removed


def passkey_used(credential_pk: int | None) -> str:
    """The detail of a passkey sign-in: which passkey (its row id), so the account page can say
    where each passkey was last used."""
    return f"passkey:{credential_pk}"


async def search(
    database: Database,
    *,
    user_id: int | None = None,
    kind: str | None = None,
    since: datetime | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    async with database.session() as db:
        rows = await audit_rows.search(db, user_id=user_id, kind=kind, since=since, limit=limit)
    return [
        {
            "at": event.at.isoformat(),
            "kind": event.kind,
            "description": KINDS.get(event.kind, event.kind),
            "user": str(user.public_id) if user else None,
            "actor": event.actor,
            "ip": event.ip,
            "user_agent": event.user_agent,
            "detail": event.detail,
        }
        for event, user in rows
    ]
