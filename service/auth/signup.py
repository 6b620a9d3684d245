"""Sign-up: the account exists only once its first passkey verified.

``begin_signup`` checks the form and parks the pending account, with the registration challenge,
in the ephemeral store; ``finish_signup`` verifies the passkey and writes user and credential in
one transaction. An abandoned sign-up leaves nothing in the database.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from service import audit
from service.auth import ceremony, invitations
from service.auth.addresses import is_valid_email, normalize_email
from service.auth.context import AuthContext
from service.auth.email_address import queue_confirmation
from service.auth.errors import PasskeyAlreadyRegistered, SignupRejected
from service.auth.names import clean_name, default_passkey_name
from service.auth.options import creation_options
from service.auth.sessions import start_session
from service.auth.verification import RelyingParty, verify_registration
from service.db import users
from service.db.models import User
from service.i18n import N_

USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{2,31}$")


@dataclass(frozen=True)
class SignupForm:
    username: str
    email: str
    name: str


def validate_signup(username: str, email: str, name: str) -> SignupForm:
    errors: dict[str, str] = {}
    username = username.strip()
    email = email.strip()
    if not USERNAME_RE.match(username):
        errors["username"] = N_(
            "Usernames are 3 to 32 letters, digits, dots, dashes or underscores, "
            "starting with a letter or digit."
        )
    if not is_valid_email(email):
        errors["email"] = N_("Enter a valid email address, like name@example.com.")
    if len(name) > 100:
        errors["name"] = N_("Names are at most 100 characters.")
    if errors:
        raise SignupRejected(errors)
    return SignupForm(username=username, email=email, name=clean_name(name, 100))


async def _reject_taken(ctx: AuthContext, form: SignupForm) -> None:
    async with ctx.db.session() as db:
        username_taken, email_taken = await users.taken(
            db, form.username.lower(), normalize_email(form.email)
        )
    errors: dict[str, str] = {}
    if username_taken:
        errors["username"] = N_("This username is already taken.")
    if email_taken:
        errors["email"] = N_("An account with this email address already exists.")
    if errors:
        raise SignupRejected(errors, status_code=409)


async def begin_signup(
    ctx: AuthContext,
    browser_id: str,
    *,
    username: str,
    email: str,
    name: str,
    invitation: str | None = None,
) -> tuple[str, dict[str, Any]]:
    """``invitation``: the token of an invitation link (``service.auth.invitations``), needed
    when ``SESAME_SIGNUP=invite``."""
    form = validate_signup(username, email, name)
    invited = await invitations.may_sign_up(ctx, invitation, form.email)
    await _reject_taken(ctx, form)
    public_id = uuid.uuid4()
    pending = await ceremony.begin(
        ctx,
        "signup",
        browser_id,
        {
            "username": form.username,
            "email": form.email,
            "name": form.name,
            "public_id": str(public_id),
            "invitation": invited.hex() if invited else None,
        },
    )
    options = creation_options(
        RelyingParty.of(ctx.settings),
        challenge=pending.challenge,
        user_handle=public_id.bytes,
        username=form.username,
        display_name=form.name,
        exclude=[],
    )
    return pending.id, options


async def finish_signup(
    ctx: AuthContext,
    browser_id: str,
    *,
    ceremony_id: str,
    credential: Any,
    user_agent: str,
    replacing: str | None,
) -> tuple[User, str]:
    """Verify the new passkey, then write user, credential and first session in one commit.
    Returns the user and the new session cookie value."""
    pending = await ceremony.take(ctx, ceremony_id, "signup", browser_id)
    passkey = verify_registration(RelyingParty.of(ctx.settings), credential, pending.challenge)
    data = pending.data
    now = ctx.clock.now()
    invited = data.get("invitation")
    user = User(
        public_id=uuid.UUID(data["public_id"]),
        username=data["username"],
        username_key=data["username"].lower(),
        email=data["email"],
        email_key=normalize_email(data["email"]),
        name=data["name"],
        created_at=now,
        # The invitation came to this address: following its link confirmed it.
        email_verified_at=now if invited else None,
    )
    # user_id is filled in once the user row has its id (same transaction).
    row = passkey.as_row(
        user_id=0, name=default_passkey_name(passkey.aaguid, user_agent), created_at=now
    )
    async with ctx.db.session() as db:
        try:
            await users.create_with_credential(db, user, row)
            if invited:
                await invitations.accept(ctx, db, bytes.fromhex(invited), user, now)
            token = await start_session(
                ctx, db, user, amr="passkey", user_agent=user_agent, replacing=replacing
            )
            if not invited:
                await queue_confirmation(ctx, db, user)
            await audit.record(db, ctx.clock, "signup", user_id=user.id)
            await db.commit()
            ctx.mailer.wake()
            return user, token
        except users.DuplicateUser:
            pass
    # Someone took the username or email between begin and finish, or the passkey exists.
    await _reject_taken(ctx, SignupForm(data["username"], data["email"], data["name"]))
    raise PasskeyAlreadyRegistered()
