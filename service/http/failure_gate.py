"""Client authentication failures at the back channel, budgeted (RFC 6749 10.10 and RFC 9700
4.16 ask a server to resist online guessing of client credentials).

Failures (``invalid_client`` at ``/token``, ``/revoke`` and ``/introspect``) are counted per
client address and presented client id in the shared store, ``SESAME_CLIENT_AUTH_FAILURES_PER_IP``
a minute (``service.auth.ratelimit``). Past the budget the answer is 429 ``rate_limited`` with
``Retry-After``, and the worker that gave it remembers the refusal until it ends: the next
requests of that address for that client id, right or wrong, are refused there without a round
trip. Successful requests never touch the store for this, so the hot path keeps its round
trips; with several workers each learns of a refusal at the first failure it sees itself.
Keying by the presented client id keeps one misconfigured app from locking out the other apps
of a host it shares.
"""

from __future__ import annotations

import base64
import math
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

from service.auth import ratelimit
from service.auth.errors import RateLimited
from service.oidc.context import OidcContext
from service.oidc.errors import InvalidClient

T = TypeVar("T")
# Refusals remembered by one worker at most (a flood of distinct ids forgets the oldest).
MAX_REMEMBERED = 10_000


def presented_client_id(pairs: Iterable[tuple[str, str]], authorization: str | None) -> str:
    """The client id a request claims (Basic header or ``client_id``), never raising: only a
    budget's key, decided before anything is checked."""
    if authorization and authorization[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            return ""
        return decoded.partition(":")[0][:200]
    for name, value in pairs:
        if name == "client_id":
            return value[:200]
    return ""


class FailureGate:
    def __init__(self, oidc: OidcContext) -> None:
        self.oidc = oidc
        self.refusals: dict[tuple[str, str], float] = {}

    async def guard(
        self, address: str, client_id_of: Callable[[], str], call: Callable[[], Awaitable[T]]
    ) -> T:
        """``call()``, unless this address and client id were refused and the refusal stands.
        The client id is read only when it is needed (a refusal remembered, or a failure):
        a successful request with nothing remembered does no work here."""
        if self.refusals:
            who = (address, client_id_of())
            until = self.refusals.get(who)
            if until is not None:
                wait = until - time.monotonic()
                if wait > 0:
                    raise RateLimited(retry_after=math.ceil(wait))
                del self.refusals[who]
        try:
            return await call()
        except InvalidClient:
            await self._failed((address, client_id_of()))
            raise

    async def _failed(self, who: tuple[str, str]) -> None:
        limit = self.oidc.settings.client_auth_failures_per_ip
        try:
            await ratelimit.hit(self.oidc, "client-auth", f"{who[0]} {who[1]}", limit, window=60)
        except RateLimited as exc:
            if len(self.refusals) >= MAX_REMEMBERED:
                del self.refusals[next(iter(self.refusals))]
            self.refusals[who] = time.monotonic() + exc.retry_after
            raise
