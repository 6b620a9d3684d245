"""The admin API, a module per resource: clients, APIs, groups, invitations, passkey-API tenants,
the audit trail.

Every route needs ``Authorization: Bearer <SESAME_ADMIN_TOKEN>``; without a configured token
the API answers 404, as if it did not exist. Documented in the OpenAPI schema at
``/openapi.json``.
"""

from __future__ import annotations

from fastapi import APIRouter

from service.http.admin import apis, clients, events, groups, invitations, tenants, webhooks

router = APIRouter()
for part in (clients, apis, groups, invitations, events, tenants, webhooks):
    router.include_router(part.router)

__all__ = ["router"]
