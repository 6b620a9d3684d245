"""Webhooks repository: subscriptions, the fan-out cursor over the audit trail, and the
deliveries queue. Functions join the caller's transaction; the caller commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, exists, update
from sqlalchemy.orm import aliased
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.db.models import AuditEvent, User, Webhook, WebhookCursor, WebhookDelivery


async def add(session: AsyncSession, row: Webhook) -> None:
    session.add(row)


async def all_webhooks(session: AsyncSession) -> list[Webhook]:
    return list((await session.exec(select(Webhook).order_by(col(Webhook.id)))).all())


async def by_webhook_id(session: AsyncSession, webhook_id: str) -> Webhook | None:
    return (await session.exec(select(Webhook).where(Webhook.webhook_id == webhook_id))).first()


async def by_pk(session: AsyncSession, pk: int) -> Webhook | None:
    return await session.get(Webhook, pk)


async def delete_by_webhook_id(session: AsyncSession, webhook_id: str) -> bool:
    result = await session.exec(delete(Webhook).where(col(Webhook.webhook_id) == webhook_id))
    return bool(result.rowcount)


async def set_secret(session: AsyncSession, pk: int, sealed: bytes) -> None:
    await session.exec(update(Webhook).where(col(Webhook.id) == pk).values(sealed_secret=sealed))


async def cursor(session: AsyncSession) -> WebhookCursor:
    """The fan-out's position, locked for this transaction on PostgreSQL (one instance fans
    out at a time); created at 0 the first time."""
    query = select(WebhookCursor).where(WebhookCursor.id == 1)
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        query = query.with_for_update()
    found = (await session.exec(query)).first()
    if found is None:
        found = WebhookCursor(id=1, last_event_id=0)
        session.add(found)
        await session.flush()
    return found


async def events_after(
    session: AsyncSession, last_id: int, settled_before: datetime, limit: int
) -> list[tuple[AuditEvent, User | None]]:
    """Audit events past the cursor, oldest first, recorded before ``settled_before`` (a
    transaction that took an id earlier but committed later is not skipped)."""
    result = await session.exec(
        select(AuditEvent, User)
        .outerjoin(User, col(User.id) == col(AuditEvent.user_id))
        .where(col(AuditEvent.id) > last_id, col(AuditEvent.at) < settled_before)
        .order_by(col(AuditEvent.id))
        .limit(limit)
    )
    return [(event, user) for event, user in result.all()]


async def due(session: AsyncSession, now: datetime, limit: int) -> list[WebhookDelivery]:
    """Due deliveries that no older undelivered one of the same person and webhook is waiting
    before (one person's events arrive in order), locked for this sender on PostgreSQL."""
    older = aliased(WebhookDelivery)
    blocked = exists().where(
        and_(
            col(older.webhook_pk) == col(WebhookDelivery.webhook_pk),
            col(older.user_key) == col(WebhookDelivery.user_key),
            col(older.id) < col(WebhookDelivery.id),
        )
    )
    query = (
        select(WebhookDelivery)
        .where(
            col(WebhookDelivery.next_attempt_at) <= now,
            (col(WebhookDelivery.user_key) == "") | ~blocked,
        )
        .order_by(col(WebhookDelivery.id))
        .limit(limit)
    )
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=WebhookDelivery)
    return list((await session.exec(query)).all())


async def deliveries(
    session: AsyncSession, webhook_pk: int | None, limit: int
) -> list[WebhookDelivery]:
    query = select(WebhookDelivery).order_by(col(WebhookDelivery.id)).limit(limit)
    if webhook_pk is not None:
        query = query.where(WebhookDelivery.webhook_pk == webhook_pk)
    return list((await session.exec(query)).all())
