"""Every sign-in attempt counted (metrics) and every refused one recorded (audit trail)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from service import audit
from service.auth.context import AuthContext
from service.auth.errors import AuthError
from service.metrics import SIGNINS

T = TypeVar("T")


async def counted(ctx: AuthContext, method: str, failed_kind: str, attempt: Awaitable[T]) -> T:
    try:
        result = await attempt
    except AuthError as exc:
        SIGNINS.labels(method, "failure").inc()
        await audit.record_alone(ctx.db, ctx.clock, failed_kind, user_id=None, detail=exc.error)
        raise
    SIGNINS.labels(method, "success").inc()
    return result
