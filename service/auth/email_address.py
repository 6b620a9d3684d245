"""Confirming an account's email address, and changing it.

* A new account gets a confirmation link and code at sign-up; the address counts as verified
  (``email_verified`` for apps) only once one of them is used. Signing in by email link proves
  the same thing, so it verifies too.
* Changing the address is sensitive: it needs a recent passkey confirmation (never an email
  session alone). The new address gets a link and code; the old one is told a change was asked
  for, and told again once it is done, so a hijacker cannot quietly take over recovery.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from service import audit
from service.auth import links, ratelimit
from service.auth.addresses import is_valid_email, normalize_email
from service.auth.context import AuthContext
from service.auth.errors import AuthError, LinkInvalid, StepUpRequired
from service.auth.notices import queue_notice
from service.auth.sessions import CurrentSession
from service.db import users
from service.db.models import User
from service.email.messages import link_message
from service.i18n import N_


class EmailTaken(AuthError):
    error = "email_taken"
    status_code = 409
    message = "Another account already uses this email address."


class InvalidNewEmail(AuthError):
    error = "invalid_email"
    message = "Enter a valid email address, like name@example.com."


async def queue_confirmation(
    ctx: AuthContext, db: AsyncSession, user: User, *, address: str | None = None
) -> None:
    """A link and code to ``address`` (the account's own by default); joins the caller's
    transaction, which must then wake the mailer."""
    assert user.id is not None
    target = address or user.email
    change = address is not None
    token, code, link = await links.issue(ctx, "verify", user.id, data={"address": target})
    message = link_message(
        ctx.settings,
        kind="confirm_new_email" if change else "verify_email",
        template="verify_email",
        recipient=target,
        name=user.name or user.username,
        path=f"/email/confirm/{token}",
        code=links.display_code(code),
        expires_at=link.expires,
        minutes=ctx.settings.email_link_seconds // 60,
        address=target,
    )
    await ctx.mailer.queue(db, message)


async def resend_confirmation(ctx: AuthContext, user: User) -> None:
    await ratelimit.hit(
        ctx, "email", normalize_email(user.email), ctx.settings.email_rate_per_address
    )
    async with ctx.db.session() as db:
        await queue_confirmation(ctx, db, user)
        await db.commit()
    ctx.mailer.wake()


async def request_change(ctx: AuthContext, session: CurrentSession, new_email: str) -> None:
    user = session.user
    if not session.passkey_recent(ctx.clock.now(), ctx.settings.step_up_seconds):
        raise StepUpRequired(detail="email change without a recent passkey confirmation")
    address = new_email.strip()
    if not is_valid_email(address):
        raise InvalidNewEmail()
    key = normalize_email(address)
    await ratelimit.hit(ctx, "email", key, ctx.settings.email_rate_per_address)
    async with ctx.db.session() as db:
        if await users.by_email_key(db, key) is not None:
            raise EmailTaken()
        await queue_confirmation(ctx, db, user, address=address)
        await queue_notice(
            ctx,
            db,
            user,
            "email_change_requested",
            N_("A change of your email address was requested"),
            N_(
                "Someone signed in to your account asked to use %(address)s instead of this "
                "address. Nothing changes unless that address confirms."
            ),
            address=address,
        )
        await db.commit()
    ctx.mailer.wake()


async def pending_address(ctx: AuthContext, token: str) -> str:
    """For the confirm page: the address the link confirms (the link stays unused)."""
    link = await links.peek(ctx, token, "verify")
    return str(link.data.get("address", ""))


async def _apply(ctx: AuthContext, link: links.Link) -> User:
    address = str(link.data.get("address", ""))
    async with ctx.db.session() as db:
        user = await users.by_pk(db, link.user_id)
        if user is None:
            raise LinkInvalid(detail="account gone")
        old = user.email
        changed = normalize_email(address) != user.email_key
        users.change(
            db,
            user,
            email=address,
            email_key=normalize_email(address),
            email_verified_at=ctx.clock.now(),
        )
        kind = "email.changed" if changed else "email.verified"
        await audit.record(db, ctx.clock, kind, user_id=user.id, detail=address)
        if changed:
            await queue_notice(
                ctx,
                db,
                user,
                "email_changed",
                N_("Your email address was changed"),
                N_("Your account now uses %(address)s. Mail about it no longer comes here."),
                to=old,
                address=address,
            )
        try:
            await db.commit()
        except IntegrityError as exc:
            raise EmailTaken() from exc
    ctx.mailer.wake()
    return user


async def confirm_with_link(ctx: AuthContext, token: str) -> User:
    return await _apply(ctx, await links.consume(ctx, token, "verify"))


async def confirm_with_code(ctx: AuthContext, user: User, code: str) -> User:
    assert user.id is not None
    return await _apply(ctx, await links.consume_code(ctx, "verify", code, user_id=user.id))


async def mark_verified(ctx: AuthContext, db: AsyncSession, user: User) -> None:
    """Signing in by a link sent to the address proves it as well."""
    if user.email_verified_at is None:
        users.change(db, user, email_verified_at=ctx.clock.now())
