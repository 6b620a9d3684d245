"""Fixed-window rate limits in the shared store (so they hold across workers and replicas).

Keys are keyed hashes of the canonical identifier (the normalized email address, not what was
typed), so "Ada@Example.com " and "ada@example.com" share one budget, and Redis holds no
addresses in clear.
"""

from __future__ import annotations

from service.auth.context import AuthContext
from service.auth.errors import RateLimited
from service.metrics import RATE_LIMITED


def _key(ctx: AuthContext, kind: str, identifier: str) -> str:
    return f"rate:{kind}:{ctx.keys.hash_hex('rate-' + kind, identifier)}"


async def hit(
    ctx: AuthContext, kind: str, identifier: str, limit: int, *, window: int | None = None
) -> None:
    window = window or ctx.settings.email_rate_window_seconds
    key = _key(ctx, kind, identifier)
    count = await ctx.store.incr(key, window)
    if count > limit:
        RATE_LIMITED.labels(kind).inc()
        raise RateLimited(retry_after=max(1, await ctx.store.ttl(key)))


async def check(ctx: AuthContext, kind: str, identifier: str, limit: int) -> None:
    """Refuse once ``limit`` failures were counted by ``hit``, without counting this one: for
    budgets spent only by failures (a wrong code), checked before every try."""
    key = _key(ctx, kind, identifier)
    count = await ctx.store.get(key)
    if count is not None and int(count) >= limit:
        RATE_LIMITED.labels(kind).inc()
        raise RateLimited(retry_after=max(1, await ctx.store.ttl(key)))
