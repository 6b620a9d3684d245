"""Fan-out and delivery of webhook events, a task in every Sesame process.

Fan-out: a cursor walks the audit trail in the order events were recorded (only events at
least ``SETTLE`` old, so one whose transaction committed late is not skipped) and queues a
delivery per subscribed webhook, in the same transaction that moves the cursor: each event is
queued once per webhook (a unique key on webhook and event id backs that up).

Delivery (Standard Webhooks, https://www.standardwebhooks.com): a JSON body posted with
``webhook-id`` (``evt_<n>``, the same on every retry, for the receiver's deduplication),
``webhook-timestamp`` and ``webhook-signature`` (``v1,`` and the base64 HMAC-SHA256 of
``id.timestamp.body`` under the secret). A 2xx ends it; anything else is retried with backoff
(5 s doubling to 10 minutes) for three days. One person's events reach a webhook in order:
a delivery waits while an older one of the same person to the same webhook is owed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from service.db import queue
from service.db import webhooks as webhook_rows
from service.db.engine import is_database_outage
from service.db.models import WebhookDelivery
from service.oidc.context import OidcContext
from service.tasks import PolledSender, Poller
from service.webhooks.registry import secret_of

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("sesame.webhooks")

SETTLE = timedelta(seconds=2)
LEASE_SECONDS = 60
MAX_BACKOFF_SECONDS = 600
GIVE_UP_AFTER = timedelta(days=3)
TIMEOUT_SECONDS = 10


def signature(secret: str, msg_id: str, timestamp: int, body: str) -> str:
    """Standard Webhooks: ``v1,`` + base64(HMAC-SHA256(key, "id.timestamp.body")), the key
    being the base64 after ``whsec_``."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.{body}".encode()
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


class WebhookSender(PolledSender):
    def __init__(self, ctx: OidcContext, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.ctx = ctx
        self.transport = transport
        self._poller = Poller(
            "webhook sender", self.work, ctx.settings.mail_poll_seconds, is_database_outage
        )

    async def work(self) -> int:
        return await self.fan_out() + await self.deliver_due()

    async def fan_out(self, limit: int = 500) -> int:
        """Queue the deliveries of the next settled events; how many events were passed."""
        now = self.ctx.clock.now()
        async with self.ctx.db.session() as db:
            hooks = await webhook_rows.all_webhooks(db)
            if not hooks:
                return 0
            cursor = await webhook_rows.cursor(db)
            found = await webhook_rows.events_after(db, cursor.last_event_id, now - SETTLE, limit)
            for event, user in found:
                assert event.id is not None
                payload = json.dumps({
                    "type": event.kind,
                    "timestamp": event.at.isoformat(),
                    "data": {
                        "user": str(user.public_id) if user else None,
                        "actor": event.actor, "ip": event.ip, "detail": event.detail,
                    },
                })  # fmt: skip
                for hook in hooks:
                    wanted = hook.events.split()
                    if event.at < hook.created_at or not ("*" in wanted or event.kind in wanted):
                        continue
                    assert hook.id is not None
                    db.add(WebhookDelivery(
                        webhook_pk=hook.id, event_id=event.id,
                        user_key=str(user.public_id) if user else "", payload=payload,
                        created_at=now, next_attempt_at=now,
                    ))  # fmt: skip
                cursor.last_event_id = event.id
            db.add(cursor)
            await db.commit()
        return len(found)

    async def deliver_due(self, limit: int = 50) -> int:
        now = self.ctx.clock.now()
        async with self.ctx.db.session() as db:
            rows = await webhook_rows.due(db, now, limit)
            for row in rows:
                assert row.id is not None
                await queue.lease(
                    db, WebhookDelivery, row.id, now + timedelta(seconds=LEASE_SECONDS)
                )
            await db.commit()
        if not rows:
            return 0
        import httpx

        delivered = 0
        async with httpx.AsyncClient(transport=self.transport, timeout=TIMEOUT_SECONDS) as http:
            for row in rows:
                delivered += await self._deliver(http, row)
        return delivered

    async def _deliver(self, http: httpx.AsyncClient, row: WebhookDelivery) -> int:
        import httpx

        assert row.id is not None
        async with self.ctx.db.session() as db:
            hook = await webhook_rows.by_pk(db, row.webhook_pk)
        if hook is None:
            return 0
        now = self.ctx.clock.now()
        msg_id, timestamp = f"evt_{row.event_id}", int(now.timestamp())
        headers = {
            "content-type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature(
                secret_of(self.ctx, hook), msg_id, timestamp, row.payload
            ),
        }
        try:
            answer = await http.post(hook.url, content=row.payload, headers=headers)
            problem = None if 200 <= answer.status_code < 300 else f"HTTP {answer.status_code}"
        except httpx.HTTPError as exc:
            problem = f"{type(exc).__name__}: {exc}"
        async with self.ctx.db.session() as db:
            if problem is None:
                await queue.remove(db, WebhookDelivery, row.id)
            elif now - row.created_at > GIVE_UP_AFTER:
                log.warning(
                    "gave up %s to %s after three days: %s", msg_id, hook.webhook_id, problem
                )
                await queue.remove(db, WebhookDelivery, row.id)
            else:
                delay = min(5 * 2**row.attempts, MAX_BACKOFF_SECONDS)
                at = now + timedelta(seconds=delay)
                await queue.retry_later(db, WebhookDelivery, row.id, at, problem)
            await db.commit()
        return 1 if problem is None else 0
