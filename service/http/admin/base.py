"""What every admin route shares: the operator's bearer token, the router settings, the
no-store header and the patterned string types of the schema."""

from __future__ import annotations

from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Path, Request
from pydantic import Field
from starlette.exceptions import HTTPException
from starlette.responses import Response

from service.auth import ratelimit
from service.http.deps import client_address, require_bearer
from service.http.oidc import Oidc
from service.http.openapi import NAME_PATTERN, ORIGIN_PATTERN, error_responses
from service.http.retry import RetryReadsRoute
from service.oidc import groups


async def require_admin(request: Request, oidc: Oidc) -> None:
    """``Authorization: Bearer <SESAME_ADMIN_TOKEN>``; without a configured token the admin API
    answers 404, as if it did not exist."""
    expected = oidc.settings.admin_token
    if not expected:
        raise HTTPException(404)
    # Wrong tokens are budgeted per client address (SESAME_ADMIN_FAILURES_PER_IP a minute):
    # past it, 429 before the token is even compared.
    failures = ratelimit.Budget(
        "admin-auth", client_address(request), oidc.settings.admin_failures_per_ip, 60
    )
    await ratelimit.peek(oidc, failures)
    try:
        require_bearer(request, expected, "admin token")
    except HTTPException:
        await ratelimit.spend(oidc, failures)
        raise


def admin_router() -> APIRouter:
    return APIRouter(
        route_class=RetryReadsRoute,
        prefix="/admin",
        tags=["admin"],
        dependencies=[Depends(require_admin)],
        responses=error_responses(400, 401, 404, 409, 413, 503),
    )


T = TypeVar("T")
Name = Annotated[
    str,
    Field(min_length=1, max_length=100, json_schema_extra={"pattern": NAME_PATTERN}),
]
NO_STORE = {"Cache-Control": "no-store"}


def found(row: T | None) -> T:
    """The thing a path names, or 404."""
    if row is None:
        raise HTTPException(404)
    return row


def no_content(done: bool) -> Response:
    """204 when the thing was there and is gone now, 404 when it was not there."""
    if not done:
        raise HTTPException(404)
    return Response(status_code=204)


GROUP_PATTERN = f"^{groups.GROUP_NAME.pattern}$"
GroupName = Annotated[
    str, Field(min_length=1, max_length=64, json_schema_extra={"pattern": GROUP_PATTERN})
]
Origin = Annotated[str, Field(max_length=300, json_schema_extra={"pattern": ORIGIN_PATTERN})]
ClientId = Annotated[str, Path(min_length=1, max_length=64)]
TenantId = Annotated[str, Path(min_length=1, max_length=40)]
ApiId = Annotated[str, Path(min_length=1, max_length=40)]
KeyLookup = Annotated[str, Path(min_length=1, max_length=16)]
