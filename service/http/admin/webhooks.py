"""Admin API: webhooks (the same operations as ``sesame webhooks``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response

from service.http.admin.base import NO_STORE, admin_router, found, no_content
from service.http.oidc import Oidc
from service.webhooks import registry

router = admin_router()
WebhookId = Annotated[str, Path(min_length=1, max_length=40)]


class WebhookIn(BaseModel):
    """``events``: kinds of the audit trail (``signup``, ``signin.passkey.failed``...), or
    ``*`` for all of them."""

    model_config = ConfigDict(strict=True, extra="forbid")

    url: str = Field(max_length=2000, examples=["https://app.example/hooks/sesame"])
    events: list[str] = Field(min_length=1, max_length=50, examples=[["signup"]])


@router.post("/webhooks", status_code=201)
async def create_webhook(body: WebhookIn, oidc: Oidc) -> Response:
    """Returns the signing secret (``whsec_...``), shown only in this answer."""
    row, secret = await registry.create_webhook(oidc, body.url, body.events, actor="admin-api")
    view = {**registry.webhook_view(row), "secret": secret}
    return JSONResponse(view, status_code=201, headers=NO_STORE)


@router.get("/webhooks")
async def list_webhooks(oidc: Oidc) -> list[dict[str, Any]]:
    return [registry.webhook_view(row) for row in await registry.list_webhooks(oidc)]


@router.delete("/webhooks/{webhook_id}", status_code=204)
async def delete_webhook(webhook_id: WebhookId, oidc: Oidc) -> Response:
    return no_content(await registry.delete_webhook(oidc, webhook_id, actor="admin-api"))


@router.post("/webhooks/{webhook_id}/rotate-secret")
async def rotate_secret(webhook_id: WebhookId, oidc: Oidc) -> Response:
    secret = await registry.rotate_secret(oidc, webhook_id, actor="admin-api")
    if secret is None:
        raise HTTPException(404)
    return JSONResponse({"webhook_id": webhook_id, "secret": secret}, headers=NO_STORE)


@router.get("/webhooks/{webhook_id}/deliveries")
async def deliveries(webhook_id: WebhookId, oidc: Oidc) -> list[dict[str, Any]]:
    """The deliveries still owed, oldest first, with attempts and the last error."""
    owed = found(await registry.pending_deliveries(oidc, webhook_id))
    return [registry.delivery_view(row) for row in owed]
