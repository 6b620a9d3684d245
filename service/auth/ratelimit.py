"""Rate limits in the shared store (so they hold across workers and replicas): GCRA, one atomic
step in the store per request (``EphemeralStore.throttle``). A budget of ``limit`` per ``window``
allows ``limit`` at once and then one every ``window / limit`` seconds, so a client that waits
the ``Retry-After`` it was given is let through, and no window edge lets twice the limit in.

Keys are keyed hashes of the canonical identifier (the normalized email address, not what was
typed), so "Ada@Example.com " and "ada@example.com" share one budget, and Redis holds no
addresses in clear.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

from service.auth.errors import RateLimited
from service.keys.keyed import Keyring
from service.metrics import RATE_LIMITED
from service.settings import Settings
from service.store import EphemeralStore


class Budgeted(Protocol):
    """What a budget needs of a context (the auth and the protocol contexts both have it)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def store(self) -> EphemeralStore: ...

    @property
    def keys(self) -> Keyring: ...


def _key(ctx: Budgeted, kind: str, identifier: str) -> str:
    return f"rate:{kind}:{ctx.keys.hash_hex('rate-' + kind, identifier)}"


@dataclass(frozen=True)
class Budget:
    """A named budget: ``limit`` requests per ``window`` seconds for one identifier."""

    kind: str
    identifier: str
    limit: int
    window: int


def _refuse(kind: str, wait: float) -> None:
    if wait > 0:
        RATE_LIMITED.labels(kind).inc()
        raise RateLimited(retry_after=math.ceil(wait))


async def put_within(
    ctx: Budgeted, key: str, value: bytes, ttl_seconds: int, budget: Budget
) -> None:
    """Store ``value`` if ``budget`` has room, counting it, in one round trip; ``RateLimited``
    (429) and nothing stored otherwise."""
    budget_key = _key(ctx, budget.kind, budget.identifier)
    wait = await ctx.store.put_within(
        key, value, ttl_seconds, budget_key, budget.limit, budget.window
    )
    _refuse(budget.kind, wait)


async def spend(ctx: Budgeted, budget: Budget) -> None:
    """``hit`` for a ``Budget``."""
    await hit(ctx, budget.kind, budget.identifier, budget.limit, window=budget.window)


async def peek(ctx: Budgeted, budget: Budget) -> None:
    """``check`` for a ``Budget``."""
    await check(ctx, budget.kind, budget.identifier, budget.limit, window=budget.window)


async def hit(
    ctx: Budgeted, kind: str, identifier: str, limit: int, *, window: int | None = None
) -> None:
    """Count one request against the budget; ``RateLimited`` (429) when it does not fit."""
    window = window or ctx.settings.email_rate_window_seconds
    wait = await ctx.store.throttle(_key(ctx, kind, identifier), limit, window)
    _refuse(kind, wait)


async def check(
    ctx: Budgeted, kind: str, identifier: str, limit: int, *, window: int | None = None
) -> None:
    """Refuse when ``hit`` would, without counting this request: for budgets spent only by
    failures (a wrong code), checked before every try."""
    window = window or ctx.settings.email_rate_window_seconds
    wait = await ctx.store.throttle(_key(ctx, kind, identifier), limit, window, peek=True)
    _refuse(kind, wait)
