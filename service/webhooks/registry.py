"""Webhook subscriptions: ``sesame webhooks ...`` and ``/admin/webhooks``."""

from __future__ import annotations

import base64
import secrets
from typing import Any

from service import audit
from service.db import webhooks as webhook_rows
from service.db.models import Webhook, WebhookDelivery
from service.keys.sealed import Sealer
from service.oidc.clients import redirect_uri_problem
from service.oidc.context import OidcContext
from service.problems import Problem

MAX_EVENTS = 50


class WebhookRejected(Problem):
    error = "invalid_webhook"


def sealer(ctx: OidcContext) -> Sealer:
    return Sealer(ctx.keys.derive("webhook-secrets"))


def _context(webhook_id: str) -> bytes:
    return f"webhook:{webhook_id}".encode()


def new_secret() -> str:
    """Standard Webhooks: ``whsec_`` and the base64 of 24 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def secret_of(ctx: OidcContext, row: Webhook) -> str:
    return sealer(ctx).open(row.sealed_secret, _context(row.webhook_id)).decode()


def _check(url: str, events: list[str]) -> None:
    problem = redirect_uri_problem(url)
    if problem or not url.startswith(("https://", "http://")):
        raise WebhookRejected(f"url {problem or 'must be http(s)'}")
    if not events or len(events) > MAX_EVENTS:
        raise WebhookRejected(f"events: 1 to {MAX_EVENTS} of the audit trail's kinds")
    unknown = sorted(set(events) - set(audit.KINDS) - {"*"})
    if unknown:
        raise WebhookRejected(f"unknown events: {', '.join(unknown)} (see sesame audit kinds)")


async def create_webhook(
    ctx: OidcContext, url: str, events: list[str], *, actor: str
) -> tuple[Webhook, str]:
    """Subscribe ``url`` to ``events`` (``*`` for all); returns it and its secret, shown once."""
    _check(url, events)
    webhook_id = "wh_" + secrets.token_hex(8)
    secret = new_secret()
    row = Webhook(
        webhook_id=webhook_id,
        url=url,
        events=" ".join(dict.fromkeys(events)),
        sealed_secret=sealer(ctx).seal(secret.encode(), _context(webhook_id)),
        created_at=ctx.clock.now(),
    )
    async with ctx.db.session() as db:
        await webhook_rows.add(db, row)
        await audit.record(
            db, ctx.clock, "webhook.created", user_id=None, actor=actor, detail=webhook_id
        )
        await db.commit()
    return row, secret


async def list_webhooks(ctx: OidcContext) -> list[Webhook]:
    async with ctx.db.session() as db:
        return await webhook_rows.all_webhooks(db)


async def delete_webhook(ctx: OidcContext, webhook_id: str, *, actor: str) -> bool:
    """The deliveries still owed to it go with it."""
    return await audit.removal(
        ctx.db, ctx.clock, "webhook.deleted", webhook_rows.delete_by_webhook_id, webhook_id,
        actor=actor,
    )  # fmt: skip


async def rotate_secret(ctx: OidcContext, webhook_id: str, *, actor: str) -> str | None:
    """A new secret signs from now on (deliveries still queued too); shown once."""
    secret = new_secret()
    async with ctx.db.session() as db:
        row = await webhook_rows.by_webhook_id(db, webhook_id)
        if row is None or row.id is None:
            return None
        sealed = sealer(ctx).seal(secret.encode(), _context(webhook_id))
        await webhook_rows.set_secret(db, row.id, sealed)
        await audit.record(
            db, ctx.clock, "webhook.secret_rotated", user_id=None, actor=actor, detail=webhook_id
        )
        await db.commit()
    return secret


async def pending_deliveries(
    ctx: OidcContext, webhook_id: str | None = None, limit: int = 100
) -> list[WebhookDelivery] | None:
    """What is still owed (oldest first), with attempts and the last error; None when there
    is no such webhook."""
    async with ctx.db.session() as db:
        pk = None
        if webhook_id is not None:
            row = await webhook_rows.by_webhook_id(db, webhook_id)
            if row is None:
                return None
            pk = row.id
        return await webhook_rows.deliveries(db, pk, limit)


def webhook_view(row: Webhook) -> dict[str, Any]:
    return {
        "webhook_id": row.webhook_id,
        "url": row.url,
        "events": row.events.split(),
        "created_at": row.created_at.isoformat(),
    }


def delivery_view(row: WebhookDelivery) -> dict[str, Any]:
    return {
        "event_id": f"evt_{row.event_id}",
        "created_at": row.created_at.isoformat(),
        "next_attempt_at": row.next_attempt_at.isoformat(),
        "attempts": row.attempts,
        "last_error": row.last_error,
    }
