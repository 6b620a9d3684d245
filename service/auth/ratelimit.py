"""Fixed-window rate limits in the shared store (so they hold across workers and replicas).

Keys are keyed hashes of the canonical identifier (the normalized email address, not what was
typed), so "Ada@Example.com " and "ada@example.com" share one budget, and Redis holds no
addresses in clear.
"""

from __future__ import annotations

from service.auth.context import AuthContext
from service.auth.errors import RateLimited
from service.metrics import RATE_LIMITED


async def hit(
    ctx: AuthContext, kind: str, identifier: str, limit: int, *, window: int | None = None
) -> None:
    window = window or ctx.settings.email_rate_window_seconds
    key = f"rate:{kind}:{ctx.keys.hash_hex('rate-' + kind, identifier)}"
    count = await ctx.store.incr(key, window)
    if count > limit:
        RATE_LIMITED.labels(kind).inc()
        raise RateLimited(retry_after=max(1, await ctx.store.ttl(key)))
