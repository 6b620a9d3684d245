"""Invitations (issue 15): an administrator invites someone by email; the link creates the
account with a passkey, at that address (so it counts as confirmed), optionally already in
some groups. ``SESAME_SIGNUP=invite`` makes an invitation the only way in; ``closed`` lets
nobody new in at all.

The link's secret is stored as a keyed hash only and is accepted once, in the same
transaction that creates the account (a compare-and-set on ``accepted_at``)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from service import audit
from service.auth import ratelimit
from service.auth.addresses import is_valid_email, normalize_email
from service.auth.context import AuthContext
from service.auth.errors import AuthError, SignupRejected
from service.db import groups as group_rows
from service.db import invitations as invitation_rows
from service.db import users as user_rows
from service.db.models import Invitation, User
from service.email.messages import invitation_message
from service.i18n import N_

MAX_GROUPS = 20


class InvitationInvalid(AuthError):
    error = "invitation_invalid"
    status_code = 400
    message = N_(
        "This invitation link does not work any more: it was used or it expired. Ask for a new one."
    )


class InvitationRequired(AuthError):
    error = "invitation_required"
    status_code = 403
    message = N_("Accounts here are by invitation only. Ask an administrator to invite you.")


class SignupClosed(AuthError):
    error = "signup_closed"
    status_code = 403
    message = N_("New accounts cannot be created here.")


class InvitationRejected(AuthError):
    error = "invalid_invitation"


def token_hash(ctx: AuthContext, token: str) -> bytes:
    return ctx.keys.hash("invitation", token)


async def invite(
    ctx: AuthContext,
    email: str,
    groups: list[str],
    *,
    actor: str,
    by: User | None = None,
) -> tuple[Invitation, str]:
    """Queue the invitation mail; returns the invitation and its path (shown to the operator
    once, for when mail cannot reach the person). Refused while sign-up is closed: the link
    would not work."""
    if ctx.settings.signup == "closed":
        raise SignupClosed()
    email = email.strip()
    if not is_valid_email(email):
        raise InvitationRejected(N_("Enter a valid email address, like name@example.com."))
    if len(groups) > MAX_GROUPS:
        raise InvitationRejected(detail="too many groups")
    # The same budget as every mail to one address: invitations cannot flood an inbox.
    await ratelimit.hit(ctx, "email", normalize_email(email), ctx.settings.email_rate_per_address)
    now = ctx.clock.now()
    token = secrets.token_urlsafe(32)
    row = Invitation(
        token_hash=token_hash(ctx, token),
        email=email,
        email_key=normalize_email(email),
        invited_by=by.id if by else None,
        created_at=now,
        expires_at=now + timedelta(days=ctx.settings.invitation_days),
    )
    path = f"/signup?invitation={token}"
    async with ctx.db.session() as db:
        _, taken = await user_rows.taken(db, "", row.email_key)
        if taken:
            raise InvitationRejected(N_("An account with this email address already exists."))
        known = await group_rows.by_name_keys(db, [g.lower() for g in groups])
        if len(known) != len({g.lower() for g in groups}):
            raise InvitationRejected(N_("An invitation can only name existing groups."))
        row.groups = " ".join(g.name for g in known)
        await invitation_rows.add(db, row)
        message = invitation_message(
            ctx.settings,
            recipient=email,
            inviter=by.name or by.username if by else ctx.settings.rp_name,
            path=path,
            expires_at=row.expires_at,
        )
        await ctx.mailer.queue(db, message)
        await audit.record(
            db, ctx.clock, "invitation.sent", user_id=None, actor=actor, detail=email
        )
        await db.commit()
    ctx.mailer.wake()
    return row, path


async def pending(ctx: AuthContext, token: str) -> Invitation:
    """The invitation a link names, unused and unexpired."""
    if not token or len(token) > 100:
        raise InvitationInvalid()
    async with ctx.db.session() as db:
        found = await invitation_rows.pending_by_hash(db, token_hash(ctx, token), ctx.clock.now())
    if found is None:
        raise InvitationInvalid()
    return found


async def may_sign_up(ctx: AuthContext, token: str | None, email: str) -> bytes | None:
    """Whether this sign-up may go ahead under ``SESAME_SIGNUP``: the invitation's hash to
    accept at the finish, or None for an open sign-up without one."""
    if ctx.settings.signup == "closed":
        raise SignupClosed()
    if not token:
        if ctx.settings.signup == "invite":
            raise InvitationRequired()
        return None
    invitation = await pending(ctx, token)
    if normalize_email(email) != invitation.email_key:
        raise SignupRejected({"email": N_("Use the email address the invitation was sent to.")})
    return invitation.token_hash


async def accept(
    ctx: AuthContext, db: AsyncSession, hashed: bytes, user: User, now: datetime
) -> None:
    """In the sign-up's transaction: use the invitation up (or refuse, and the account is not
    created), and put the new account in the invitation's groups."""
    assert user.id is not None
    groups = await invitation_rows.accept(db, hashed, now)
    if groups is None:
        raise InvitationInvalid()
    for group in await group_rows.by_name_keys(db, groups.lower().split()):
        assert group.id is not None
        await group_rows.add_member(db, group.id, user.id, now)
    await audit.record(db, ctx.clock, "invitation.accepted", user_id=user.id)


async def recent(ctx: AuthContext, limit: int = 50) -> list[Invitation]:
    async with ctx.db.session() as db:
        return await invitation_rows.recent(db, limit)
