"""What every console page shares: who may see it (an administrator's session; anyone else a
sign-in or a 403), who may change something (a passkey confirmation no older than the step-up
window, and the CSRF token), and the page's frame (navigation, notices, the step-up banner).

The pages are never cached and never framed: the middleware sends ``no-store`` and
``frame-ancestors 'none'`` on every page."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from starlette.responses import RedirectResponse, Response

from service.auth.errors import AuthError, NotSignedIn, StepUpRequired
from service.auth.sessions import CurrentSession
from service.http.deps import Csrf, Ctx, MaybeSession
from service.http.render import page
from service.i18n import N_


class NotAdmin(AuthError):
    error = "not_admin"
    status_code = 403
    message = N_("This page is for administrators.")


async def require_admin(session: MaybeSession) -> CurrentSession:
    if session is None:
        raise NotSignedIn()
    if session.user.admin_since is None or session.user.disabled_at is not None:
        raise NotAdmin(detail=f"{session.user.username} is not an administrator")
    return session


Admin = Annotated[CurrentSession, Depends(require_admin)]


async def require_confirmed(ctx: Ctx, session: Admin) -> CurrentSession:
    """Every change: an administrator who confirmed with a passkey within the step-up window
    (``SESAME_STEP_UP_SECONDS``); an email-link session alone never suffices."""
    if not session.passkey_recent(ctx.clock.now(), ctx.settings.step_up_seconds):
        raise StepUpRequired(detail="console change without a recent passkey confirmation")
    return session


Confirmed = Annotated[CurrentSession, Depends(require_confirmed)]
CHANGE = [Csrf]

NOTICES = {
    "disabled": N_("The account is disabled: its sessions and app tokens have ended."),
    "enabled": N_("The account is enabled again."),
    "signed-out": N_("Every session of this account has ended."),
    "deleted": N_("The account is deleted."),
    "admin": N_("The account is now an administrator."),
    "not-admin": N_("The account is no longer an administrator."),
    "joined": N_("Added to the group."),
    "left": N_("Removed from the group."),
    "group-created": N_("Group created."),
    "group-deleted": N_("Group deleted."),
    "app-groups": N_("The app's allowed groups are saved."),
    "app-saved": N_("The app's addresses are saved."),
    "passkey-removed": N_("The passkey is removed; its owner is told by email."),
    "roles-saved": N_("The API's roles are saved."),
    "api-deleted": N_("The API is deleted."),
    "key-revoked": N_("The key is revoked: it stops working at once."),
    "tenant-deleted": N_("The tenant is deleted, with its keys and its users' passkeys."),
    "keys-rotated": N_("New signing keys are published; they sign in a few minutes."),
    "app-deleted": N_("The app is deleted, and everything issued to it."),
}


def console_page(
    request: Request, ctx: Any, session: CurrentSession, template: str, **values: Any
) -> Response:
    return page(
        request,
        f"console/{template}",
        user=session.user,
        notice=NOTICES.get(request.query_params.get("done", "")),
        passkey_recent=session.passkey_recent(ctx.clock.now(), ctx.settings.step_up_seconds),
        **values,
    )


def done(path: str, notice: str) -> RedirectResponse:
    """After a change: back to a console page (303, so a reload never re-posts), saying so."""
    assert notice in NOTICES
    return RedirectResponse(f"{quote(path)}?done={notice}", status_code=303)


def actor(session: CurrentSession) -> str:
    """Who the audit trail says acted: ``admin:<username>``."""
    return f"admin:{session.user.username}"
