"""The first administrator, without a terminal (issue 15): while Sesame has no administrator,
each start writes a one-time setup link to the log. Whoever opens it, signed in with a
passkey, becomes the first administrator; the link then stops working, and so does every
other, since an administrator exists. ``sesame users grant-admin`` does the same from a
shell.

The link's secret lives in the ephemeral store (its keyed hash, for ``SETUP_SECONDS``) and
is taken atomically, so two people racing on one link make one administrator."""

from __future__ import annotations

import logging
import secrets

from service.auth.context import AuthContext
from service.auth.errors import AuthError
from service.auth.operators import set_admin
from service.db import users as user_rows
from service.db.models import User
from service.i18n import N_

log = logging.getLogger("sesame.setup")

SETUP_SECONDS = 86_400


class SetupLinkInvalid(AuthError):
    error = "setup_link_invalid"
    status_code = 410
    message = N_(
        "This setup link does not work any more: it was used, it expired, or Sesame has an "
        "administrator already."
    )


def _key(ctx: AuthContext, token: str) -> str:
    return "setup:" + ctx.keys.hash_hex("first-admin", token)


async def has_admin(ctx: AuthContext) -> bool:
    async with ctx.db.session() as db:
        return await user_rows.count(db, admins=True) > 0


async def announce(ctx: AuthContext) -> str | None:
    """At start, while nobody administers Sesame: a new setup link, logged; its path."""
    if await has_admin(ctx):
        return None
    token = secrets.token_urlsafe(32)
    await ctx.store.put(_key(ctx, token), b"1", SETUP_SECONDS)
    path = f"/console/setup/{token}"
    log.warning(
        "no administrator yet: open %s%s within 24 hours and sign in with a passkey to become "
        "the first one (or run: sesame users grant-admin USERNAME)",
        ctx.settings.issuer,
        path,
    )
    return path


async def usable(ctx: AuthContext, token: str) -> bool:
    if len(token) > 100 or await has_admin(ctx):
        return False
    return await ctx.store.get(_key(ctx, token)) is not None


async def claim(ctx: AuthContext, token: str, user: User) -> None:
    """Make ``user`` the first administrator, using the link up."""
    if len(token) > 100 or await has_admin(ctx):
        raise SetupLinkInvalid()
    if await ctx.store.take(_key(ctx, token)) is None:
        raise SetupLinkInvalid()
    await set_admin(ctx, user, True, actor="setup-link")
