"""OpenID Connect Back-Channel Logout 1.0: tell apps that a person signed out.

When a browser session ends (sign-out, "sign out everywhere", a disabled or deleted account, an
operator's revocation), the same transaction queues a delivery for each client that registered
a ``backchannel_logout_uri`` and holds a grant from that session (``service.db.logouts``). This
sender, a task in every Sesame process, posts each one a logout token (section 2.4) as the form
field ``logout_token`` (2.5): a JWT signed like the client's ID tokens, ``typ`` ``logout+jwt``,
with ``iss``, ``aud``, ``iat``, ``exp``, ``jti``, ``sub``, ``sid`` and the back-channel logout
event, and never a ``nonce``.

Nothing waits for the apps: the person's sign-out answers at once. An app that is down or
answers 5xx is retried with backoff (5 s, 10 s ... 10 minutes) for a day; a 2xx ends the
delivery (2.8), and so does a 4xx, which says the app refused that token, so sending it again
would not help. Rows are claimed with ``SKIP LOCKED``, so two instances never post the same one.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from service.db import logouts as logout_rows
from service.db import queue
from service.db.engine import is_database_outage
from service.db.models import LogoutDelivery, OAuthClient
from service.keys.keyed import new_token
from service.metrics import LOGOUTS
from service.oidc.context import OidcContext
from service.tasks import PolledSender, Poller

if TYPE_CHECKING:  # httpx is imported once there is something to send (5 MB a process saves)
    import httpx

log = logging.getLogger("sesame.logout")

EVENT = "http://schemas.openid.net/event/backchannel-logout"
TOKEN_SECONDS = 120
MAX_BACKOFF_SECONDS = 600
GIVE_UP_AFTER = timedelta(days=1)
LEASE_SECONDS = 60
TIMEOUT_SECONDS = 5


async def logout_token(ctx: OidcContext, client: OAuthClient, subject: str, sid: str | None) -> str:
    """Section 2.4: the claims, signed with the algorithm of the client's ID tokens."""
    now = int(ctx.clock.now().timestamp())
    claims: dict[str, object] = {
        "iss": ctx.settings.issuer,
        "aud": client.client_id,
        "iat": now,
        "exp": now + TOKEN_SECONDS,
        "jti": new_token(16),
        "sub": subject,
        "events": {EVENT: {}},
    }
    if sid is not None:
        claims["sid"] = sid
    return await ctx.signer.sign(claims, alg=client.id_token_alg, typ="logout+jwt")


class LogoutSender(PolledSender):
    def __init__(self, ctx: OidcContext, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.ctx = ctx
        self.transport = transport
        self._poller = Poller(
            "logout sender", self.deliver_due, ctx.settings.mail_poll_seconds, is_database_outage
        )

    async def deliver_due(self, limit: int = 20) -> int:
        """Post what is due now; returns how many were delivered. Rows are leased for a minute
        and the claim committed before any request goes out."""
        now = self.ctx.clock.now()
        async with self.ctx.db.session() as db:
            rows = await queue.claim_due(db, LogoutDelivery, now, limit)
            for row in rows:
                assert row.id is not None
                lease = now + timedelta(seconds=LEASE_SECONDS)
                await queue.lease(db, LogoutDelivery, row.id, lease)
            await db.commit()
        if not rows:  # the common case, every poll: no HTTP client to set up
            return 0
        import httpx

        delivered = 0
        async with httpx.AsyncClient(transport=self.transport, timeout=TIMEOUT_SECONDS) as http:
            for row in rows:
                assert row.id is not None
                delivered += await self._deliver(http, row.id)
        return delivered

    async def _deliver(self, http: httpx.AsyncClient, pk: int) -> int:
        import httpx

        async with self.ctx.db.session() as db:
            found = await logout_rows.with_client(db, pk)
        if found is None:  # the client was deleted meanwhile
            return 0
        row, client = found
        now = self.ctx.clock.now()
        if now - row.created_at > GIVE_UP_AFTER:
            log.warning("gave up telling %s of a sign-out after a day", client.client_id)
            LOGOUTS.labels("abandoned").inc()
            return await self._finish(pk, 0)
        token = await logout_token(self.ctx, client, row.subject, row.sid)
        try:
            answer = await http.post(client.backchannel_logout_uri, data={"logout_token": token})
            problem = f"HTTP {answer.status_code}" if answer.status_code >= 500 else None
        except httpx.HTTPError as exc:
            problem = f"{type(exc).__name__}: {exc}"
        if problem is not None:
            return await self._retry(row, client, problem)
        if answer.status_code >= 300:
            log.warning("%s refused a logout token: HTTP %d", client.client_id, answer.status_code)
            LOGOUTS.labels("refused").inc()
            return await self._finish(pk, 0)
        LOGOUTS.labels("delivered").inc()
        return await self._finish(pk, 1)

    async def _retry(self, row: LogoutDelivery, client: OAuthClient, problem: str) -> int:
        assert row.id is not None
        delay = min(5 * 2**row.attempts, MAX_BACKOFF_SECONDS)
        log.warning(
            "could not tell %s of a sign-out (attempt %d, next in %d s): %s",
            client.client_id,
            row.attempts + 1,
            delay,
            problem,
        )
        LOGOUTS.labels("failed").inc()
        at = self.ctx.clock.now() + timedelta(seconds=delay)
        async with self.ctx.db.session() as db:
            await queue.retry_later(db, LogoutDelivery, row.id, at, problem)
            await db.commit()
        return 0

    async def _finish(self, pk: int, delivered: int) -> int:
        async with self.ctx.db.session() as db:
            await queue.remove(db, LogoutDelivery, pk)
            await db.commit()
        return delivered
