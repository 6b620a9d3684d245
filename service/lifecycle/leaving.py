"""A person's own data: deleting the account (GDPR article 17, the right to erasure) and
downloading what Sesame holds about them (article 20, data portability).

Both are sensitive: they need a passkey confirmation in this session no older than
``SESAME_STEP_UP_SECONDS`` (an email link alone is not enough: whoever reads the mailbox must
not be able to erase or copy the account). Deletion also needs the username typed again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from service import audit
from service.auth import operators
from service.auth.context import AuthContext
from service.auth.errors import AuthError, StepUpRequired
from service.auth.notices import queue_notice
from service.auth.sessions import CurrentSession
from service.codec import b64url_encode
from service.db import credentials
from service.db import sessions as session_rows
from service.i18n import N_
from service.oidc import consent
from service.oidc.context import OidcContext

EXPORT_FORMAT = "sesame-export/1"
EMAIL_KINDS = ("email.changed", "email.verified")
MAX_EVENTS = 10_000


class DeletionDisabled(AuthError):
    error = "deletion_disabled"
    status_code = 403
    message = N_("Deleting your account here is turned off on this server. Ask its administrator.")


class ConfirmationMismatch(AuthError):
    error = "confirmation_mismatch"
    message = N_("To delete your account, type your username exactly as it is shown.")


def _require_passkey(ctx: AuthContext, session: CurrentSession, what: str) -> None:
    if not session.passkey_recent(ctx.clock.now(), ctx.settings.step_up_seconds):
        raise StepUpRequired(detail=f"{what} without a recent passkey confirmation")


async def delete_own_account(ctx: AuthContext, session: CurrentSession, typed: str) -> None:
    """Everything but the pseudonymous audit event goes (``operators.erase``); a notice goes
    to the address, so an unexpected deletion does not pass unnoticed."""
    if not ctx.settings.account_deletion:
        raise DeletionDisabled()
    _require_passkey(ctx, session, "delete the account")
    user = session.user
    if typed.strip().lower() != user.username.lower():
        raise ConfirmationMismatch()
    async with ctx.db.session() as db:
        await queue_notice(
            ctx,
            db,
            user,
            "account_deleted",
            N_("Your account was deleted"),
            N_(
                "Your account, its passkeys and the access you gave apps are gone. If this was "
                "not you, contact the administrator of this service at once."
            ),
        )
        await operators.erase(ctx, db, user, actor="user")
        await db.commit()
    ctx.mailer.wake()


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


async def export(ctx: AuthContext, oidc: OidcContext, session: CurrentSession) -> dict[str, Any]:
    """What Sesame holds about the person, as JSON. Public keys are in it; no secret is: no
    session or token hash, no code, no refresh token, no server key material."""
    _require_passkey(ctx, session, "download the account's data")
    user = session.user
    assert user.id is not None
    async with ctx.db.session() as db:
        passkeys = await credentials.for_user(db, user.id)
        sessions = await session_rows.for_user(db, user.id)
        await audit.record(db, ctx.clock, "account.exported", user_id=user.id)
        await db.commit()
    apps = await consent.allowed_apps(oidc, user.id)
    events = await audit.search(ctx.db, user_id=user.id, limit=MAX_EVENTS)
    return {
        "format": EXPORT_FORMAT,
        "issuer": ctx.settings.issuer,
        "exported_at": ctx.clock.now().isoformat(),
        "profile": {
            "id": str(user.public_id),
            "username": user.username,
            "name": user.name,
            "email": user.email,
            "email_verified_at": _when(user.email_verified_at),
            "created_at": user.created_at.isoformat(),
        },
        "email_history": [
            {"at": e["at"], "event": e["description"], "detail": e["detail"]}
            for e in events
            if e["kind"] in EMAIL_KINDS
        ],
        "passkeys": [
            {
                "name": pk.name,
                "created_at": pk.created_at.isoformat(),
                "last_used_at": _when(pk.last_used_at),
                "credential_id": b64url_encode(pk.credential_id),
                "public_key_cose": b64url_encode(pk.public_key),
                "aaguid": pk.aaguid,
                "transports": pk.transports.split(),
                "synced": pk.backup_eligible,
                "backed_up": pk.backup_state,
            }
            for pk in passkeys
        ],
        "apps": [
            {
                "client_id": app.client_id,
                "name": app.name,
                "scope": app.scope,
                "since": app.since.isoformat(),
            }
            for app in apps
        ],
        "sessions": [
            {
                "this_session": row.id == session.session_pk,
                "created_at": row.created_at.isoformat(),
                "last_seen_at": row.last_seen_at.isoformat(),
                "expires_at": row.expires_at.isoformat(),
                "signed_in_with": row.amr.split(),
                "user_agent": row.user_agent,
            }
            for row in sessions
        ],
        "activity": [
            {key: e[key] for key in ("at", "kind", "description", "actor", "ip", "user_agent")}
            | {"detail": e["detail"]}
            for e in events
        ],
    }
