"""The outbox and its background sender.

A request that sends mail only adds a row to ``email_outbox`` in its own transaction and wakes
the sender: it answers at once, whatever the SMTP server is doing. The sender, a task in every
Sesame process, claims due rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so instances never
send a message twice), sends each, and deletes it. A failure schedules a retry with exponential
backoff (5 s, 10 s, 20 s ... at most 10 minutes). A message whose link has expired is dropped
rather than sent late. Bodies are sealed in the table, since a queued sign-in link is a
credential.

With no ``SESAME_SMTP_HOST`` (the embedded default) messages are written to the log instead,
so the link and code are readable in the terminal that runs ``./scripts/run``.
"""

from __future__ import annotations

import json
import logging
import ssl
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Protocol
from urllib.parse import urlsplit

import aiosmtplib
from sqlmodel.ext.asyncio.session import AsyncSession

from service.clock import Clock
from service.db import outbox as outbox_rows
from service.db.engine import Database, is_database_outage
from service.db.models import OutboxEmail
from service.email.messages import Message
from service.keys.sealed import Sealer
from service.metrics import EMAILS
from service.settings import Settings
from service.spans import span
from service.tasks import Poller

log = logging.getLogger("sesame.email")

MAX_BACKOFF_SECONDS = 600
LEASE_SECONDS = 60


class Transport(Protocol):
    async def send(self, message: EmailMessage) -> None: ...


class SmtpTransport:
    """aiosmtplib with STARTTLS (default), implicit TLS, or plain for a local relay;
    username and password only when configured."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.tls_context: ssl.SSLContext | None = None
        if settings.smtp_security != "none":
            self.tls_context = ssl.create_default_context(
                cafile=str(settings.smtp_ca_file) if settings.smtp_ca_file else None
            )

    async def send(self, message: EmailMessage) -> None:
        s = self.settings
        assert s.smtp_host is not None
        with span("smtp send", **{"server.address": s.smtp_host, "server.port": s.smtp_port}):
            await aiosmtplib.send(
                message,
                hostname=s.smtp_host,
                port=s.smtp_port,
                username=s.smtp_username or None,
                password=s.smtp_password or None,
                use_tls=s.smtp_security == "tls",
                start_tls=s.smtp_security == "starttls",
                tls_context=self.tls_context,
                timeout=s.smtp_timeout_seconds,
            )


class LogTransport:
    """The embedded default: the message goes to the log, link and code readable there. In
    production the body is left out (logs must never carry a sign-in link): configure SMTP."""

    def __init__(self, *, redact: bool) -> None:
        self.redact = redact

    async def send(self, message: EmailMessage) -> None:
        if self.redact:
            log.error(
                "email not sent, no SMTP configured (set SESAME_SMTP_HOST): %s",
                message["Subject"],
            )
            return
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        log.info(
            "email (no SMTP configured) to %s: %s\n%s", message["To"], message["Subject"], text
        )


class Mailer:
    def __init__(self, settings: Settings, db: Database, clock: Clock, sealer: Sealer) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock
        self.sealer = sealer
        self.transport: Transport = (
            SmtpTransport(settings)
            if settings.smtp_host
            else LogTransport(redact=settings.env == "production")
        )
        self._poller = Poller(
            "email sender", self.deliver_due, settings.mail_poll_seconds, is_database_outage
        )
        host = urlsplit(settings.issuer).hostname or "localhost"
        self._domain = host

    async def queue(self, db: AsyncSession, message: Message) -> None:
        """Add to the caller's transaction; call :meth:`wake` after it commits."""
        now = self.clock.now()
        body = json.dumps({"text": message.text, "html": message.html}).encode()
        await outbox_rows.add(
            db,
            OutboxEmail(
                recipient=message.recipient,
                subject=message.subject,
                kind=message.kind,
                sealed_body=self.sealer.seal(body, message.recipient.encode()),
                created_at=now,
                next_attempt_at=now,
                expires_at=message.expires_at,
            ),
        )
        EMAILS.labels("queued").inc()

    def wake(self) -> None:
        self._poller.wake()

    def _email(self, row: OutboxEmail) -> EmailMessage:
        body = json.loads(self.sealer.open(row.sealed_body, row.recipient.encode()))
        message = EmailMessage()
        message["From"] = self.settings.mail_from
        message["To"] = row.recipient
        message["Subject"] = row.subject
        message["Date"] = format_datetime(row.created_at)
        message["Message-ID"] = make_msgid(domain=self._domain)
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(body["text"])
        message.add_alternative(body["html"], subtype="html")
        return message

    async def deliver_due(self, limit: int = 20) -> int:
        """Send what is due now; returns how many were sent.

        Claiming leases the rows (their next attempt moves a minute ahead) and commits, so no
        database connection or lock is held while the SMTP server takes its time; a sender that
        dies mid-way leaves the rows to be retried when the lease runs out.
        """
        now = self.clock.now()
        async with self.db.session() as db:
            rows = await outbox_rows.claim_due(db, now, limit)
            for row in rows:
                assert row.id is not None
                await outbox_rows.lease(db, row.id, now + timedelta(seconds=LEASE_SECONDS))
            await db.commit()
        sent = 0
        for row in rows:
            sent += await self._deliver(row)
        return sent

    async def _deliver(self, row: OutboxEmail) -> int:
        assert row.id is not None
        now = self.clock.now()
        if row.expires_at is not None and now >= row.expires_at:
            log.info("dropped an expired %s message", row.kind)
            EMAILS.labels("dropped").inc()
            await self._finish(row.id)
            return 0
        try:
            await self.transport.send(self._email(row))
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            delay = min(5 * 2**row.attempts, MAX_BACKOFF_SECONDS)
            log.warning(
                "could not send %s to %s (attempt %d, next in %d s): %s",
                row.kind,
                row.recipient,
                row.attempts + 1,
                delay,
                exc,
            )
            EMAILS.labels("failed").inc()
            async with self.db.session() as db:
                await outbox_rows.retry_later(db, row.id, now + timedelta(seconds=delay), str(exc))
                await db.commit()
            return 0
        EMAILS.labels("sent").inc()
        await self._finish(row.id)
        return 1

    async def _finish(self, pk: int) -> None:
        async with self.db.session() as db:
            await outbox_rows.remove(db, pk)
            await db.commit()

    def start(self) -> None:
        self._poller.start()

    async def stop(self) -> None:
        await self._poller.stop()
