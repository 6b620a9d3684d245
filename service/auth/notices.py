"""Security notices by email: the account's owner hears about every change that matters
(passkey added or removed, email changed, a sign-in by email link), so a takeover is noticed."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from service.auth.context import AuthContext
from service.db.models import User
from service.email.messages import notice


async def queue_notice(
    ctx: AuthContext,
    db: AsyncSession,
    user: User,
    kind: str,
    headline: str,
    detail: str,
    *,
    to: str | None = None,
    **values: Any,
) -> None:
    """Joins the caller's transaction; after its commit call ``ctx.mailer.wake()``.
    ``headline`` and ``detail`` are message ids (``N_``) taking ``values``."""
    message = notice(
        ctx.settings,
        kind=kind,
        recipient=to or user.email,
        name=user.name or user.username,
        headline=headline,
        detail=detail,
        at=ctx.clock.now(),
        values=values,
    )
    await ctx.mailer.queue(db, message)
