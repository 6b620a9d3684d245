"""Admin API: the audit trail."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from service import audit
from service.auth import operators
from service.http.admin.base import admin_router
from service.http.deps import Ctx

router = admin_router()


class EventOut(BaseModel):
    at: str
    kind: str
    description: str
    user: str | None = Field(default=None, description="The account's public id")
    actor: str
    ip: str
    user_agent: str
    detail: str


@router.get("/events", response_model=list[EventOut])
async def list_events(
    ctx: Ctx,
    user: str | None = None,
    kind: str | None = None,
    since: Annotated[
        str | None,
        Query(max_length=40, json_schema_extra={"format": "date-time"}),
    ] = None,
    limit: int = Query(default=50, ge=1, le=1000),
) -> list[dict[str, Any]]:
    """The audit trail, newest first; filter by user (username, email or id), kind, time."""
    try:
        after = datetime.fromisoformat(since) if since is not None else None
    except ValueError as exc:
        raise HTTPException(400, "since: an ISO 8601 date-time") from exc
    if after is not None and after.tzinfo is None:
        after = after.replace(tzinfo=UTC)
    user_id = None
    if user is not None:
        found = await operators.find_user(ctx, user)
        if found is None:
            raise HTTPException(404, "no such user")
        user_id = found.user.id
    return await audit.search(ctx.db, user_id=user_id, kind=kind, since=after, limit=limit)
