"""Admin API: invitations to create an account (the same as ``sesame users invite``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse, Response

from service.auth import invitations
from service.db.models import Invitation
from service.http.admin.base import NO_STORE, GroupName, admin_router
from service.http.deps import Ctx
from service.http.openapi import error_responses

router = admin_router()


class InvitationIn(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    email: str = Field(max_length=320, examples=["pat@example.com"])
    groups: list[GroupName] = Field(
        default_factory=list, max_length=20, description="Groups the new account joins."
    )


def invitation_view(row: Invitation) -> dict[str, Any]:
    return {
        "email": row.email,
        "groups": row.groups.split(),
        "created_at": row.created_at.isoformat(),
        "expires_at": row.expires_at.isoformat(),
        "accepted_at": row.accepted_at.isoformat() if row.accepted_at else None,
    }


@router.post("/invitations", status_code=201, responses=error_responses(403, 429))
async def invite(body: InvitationIn, ctx: Ctx) -> Response:
    """Mails the person a single-use link that creates their account (with a passkey); the
    link is also in this answer, once, for when mail cannot reach them. 403 while sign-up is
    closed; 429 past the address's mail budget."""
    row, path = await invitations.invite(ctx, body.email, body.groups, actor="admin-api")
    view = {**invitation_view(row), "link": f"{ctx.settings.issuer}{path}"}
    return JSONResponse(view, status_code=201, headers=NO_STORE)


@router.get("/invitations")
async def list_invitations(ctx: Ctx) -> list[dict[str, Any]]:
    """The 50 newest, accepted or not."""
    return [invitation_view(row) for row in await invitations.recent(ctx)]
