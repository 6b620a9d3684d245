"""Sign-in by email link or code: how someone on a new device, or who lost every passkey, gets in.

1. ``request_signin_link``: rate limits per normalized address and per client IP, then the
   answer is the same whether or not an account exists; the lookup, the link and the mail
   happen in the background so the timing is the same too.
2. The email carries a link bound to the browser that asked (an HttpOnly cookie) and a code.
   ``link_for_browser`` tells the confirm page whether this browser may use the link; another
   browser is told to type the code in the original tab, and does not burn the link.
3. ``finish_with_link`` (the confirm page's POST) or ``finish_with_code`` (the code typed in the
   original tab) use the link up and start a session with ``amr=email``. Such a session never
   counts as a passkey sign-in: sensitive actions ask a passkey to confirm it (step-up).
"""

from __future__ import annotations

from dataclasses import dataclass

from service import audit
from service.auth import links, ratelimit
from service.auth.addresses import is_valid_email, normalize_email
from service.auth.context import AuthContext
from service.auth.email_address import mark_verified
from service.auth.errors import AccountDisabled, AuthError, LinkInvalid, LinkOtherBrowser
from service.auth.notices import queue_notice
from service.auth.outcomes import counted
from service.auth.sessions import start_session
from service.db import users
from service.db.models import User
from service.email.messages import link_message
from service.i18n import N_


class InvalidEmail(AuthError):
    error = "invalid_email"
    message = "Enter a valid email address, like name@example.com."


async def request_signin_link(
    ctx: AuthContext, browser_id: str, email: str, client_ip: str, next_path: str | None
) -> None:
    address = email.strip()
    if not is_valid_email(address):
        raise InvalidEmail()
    key = normalize_email(address)
    await ratelimit.hit(ctx, "email", key, ctx.settings.email_rate_per_address)
    await ratelimit.hit(ctx, "ip", client_ip, ctx.settings.email_rate_per_ip)
    ctx.background.spawn(_send_signin_link(ctx, browser_id, key, next_path))


async def _send_signin_link(
    ctx: AuthContext, browser_id: str, email_key: str, next_path: str | None
) -> None:
    async with ctx.db.session() as db:
        user = await users.by_email_key(db, email_key)
        if user is None or user.disabled_at is not None or user.id is None:
            return
        token, code, link = await links.issue(
            ctx, "signin", user.id, browser_id=browser_id, data={"next": next_path}
        )
        message = link_message(
            ctx.settings,
            kind="signin_link",
            recipient=user.email,
            name=user.name or user.username,
            path=f"/signin/email/{token}",
            code=links.display_code(code),
            expires_at=link.expires,
            minutes=ctx.settings.email_link_seconds // 60,
        )
        await ctx.mailer.queue(db, message)
        await db.commit()
    ctx.mailer.wake()


@dataclass(frozen=True)
class PendingLink:
    user: User
    same_browser: bool


async def link_for_browser(ctx: AuthContext, token: str, browser_id: str) -> PendingLink:
    """For the confirm page: whose link this is and whether this browser asked for it."""
    link = await links.peek(ctx, token, "signin")
    async with ctx.db.session() as db:
        user = await users.by_pk(db, link.user_id)
    if user is None:
        raise LinkInvalid(detail="account gone")
    return PendingLink(user, link.browser == links.browser_hash(ctx, browser_id))


async def _signed_in(
    ctx: AuthContext, link: links.Link, *, user_agent: str, replacing: str | None
) -> tuple[User, str, str | None]:
    async with ctx.db.session() as db:
        user = await users.by_pk(db, link.user_id)
        if user is None:
            raise LinkInvalid(detail="account gone")
        if user.disabled_at is not None:
            raise AccountDisabled()
        token = await start_session(
            ctx, db, user, amr="email", user_agent=user_agent, replacing=replacing
        )
        await mark_verified(ctx, db, user)
        await audit.record(db, ctx.clock, "signin.email", user_id=user.id)
        await queue_notice(
            ctx,
            db,
            user,
            "signed_in_by_email",
            N_("You signed in with an email link"),
            N_(
                "A browser (%(browser)s) signed in to your account with a link or code sent to "
                "this address."
            ),
            browser=user_agent[:80] or "?",
        )
        await db.commit()
    ctx.mailer.wake()
    next_path = link.data.get("next")
    return user, token, next_path if isinstance(next_path, str) else None


async def _with_link(
    ctx: AuthContext, token: str, browser_id: str, *, user_agent: str, replacing: str | None
) -> tuple[User, str, str | None]:
    pending = await links.peek(ctx, token, "signin")
    if pending.browser != links.browser_hash(ctx, browser_id):
        raise LinkOtherBrowser()
    link = await links.consume(ctx, token, "signin")
    return await _signed_in(ctx, link, user_agent=user_agent, replacing=replacing)


async def finish_with_link(
    ctx: AuthContext, token: str, browser_id: str, *, user_agent: str, replacing: str | None
) -> tuple[User, str, str | None]:
    """The confirm page's POST. Only the browser that asked may use the link; any other is
    refused before the link is touched, so it stays valid for the right one."""
    attempt = _with_link(ctx, token, browser_id, user_agent=user_agent, replacing=replacing)
    return await counted(ctx, "email_link", "signin.email.failed", attempt)


async def _with_code(
    ctx: AuthContext, code: str, browser_id: str, *, user_agent: str, replacing: str | None
) -> tuple[User, str, str | None]:
    link = await links.consume_code(ctx, "signin", code, browser_id=browser_id)
    return await _signed_in(ctx, link, user_agent=user_agent, replacing=replacing)


async def finish_with_code(
    ctx: AuthContext, code: str, browser_id: str, *, user_agent: str, replacing: str | None
) -> tuple[User, str, str | None]:
    attempt = _with_code(ctx, code, browser_id, user_agent=user_agent, replacing=replacing)
    return await counted(ctx, "email_code", "signin.email.failed", attempt)
