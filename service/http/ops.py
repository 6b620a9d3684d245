"""For operators and orchestrators: liveness, readiness, metrics."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.responses import JSONResponse, Response

from service.db.schema_version import is_current
from service.http.deps import Ctx, require_bearer
from service.http.render import page
from service.http.retry import RetryReadsRoute
from service.metrics import exposition

router = APIRouter(route_class=RetryReadsRoute, include_in_schema=False)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness only: the process answers. Readiness (database, Redis) is ``/readyz``."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request, ctx: Ctx) -> Response:
    """Ready to take traffic: not shutting down, the database answers and its schema is
    current, and the store answers. 503 with the failing checks otherwise, so a load balancer
    routes around it."""
    if request.app.state.draining:
        return JSONResponse(
            {"status": "unavailable", "checks": {"process": "shutting down"}}, status_code=503
        )
    checks: dict[str, str] = {}
    try:
        await ctx.db.ping()
        current = await is_current(ctx.db.engine)
        checks["database"] = "ok"
        checks["migrations"] = "ok" if current else "pending: run `sesame migrate`"
    except Exception as exc:  # any failure means "not ready"; the reason goes in the answer
        checks["database"] = f"unreachable: {exc.__class__.__name__}"
    try:
        await ctx.store.ping()
        checks["store"] = "ok"
    except Exception as exc:
        checks["store"] = f"unreachable: {exc.__class__.__name__}"
    ready = all(value == "ok" for value in checks.values()) and len(checks) == 3
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks},
        status_code=200 if ready else 503,
    )


@router.get("/metrics")
async def metrics(request: Request, ctx: Ctx) -> Response:
    """Prometheus text format; behind ``Authorization: Bearer $SESAME_METRICS_TOKEN`` when
    that is set."""
    expected = ctx.settings.metrics_token
    if expected:
        require_bearer(request, expected, "metrics token")
    return Response(exposition(), media_type=CONTENT_TYPE_LATEST)


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str):
        found: dict[str, Any] = components.get(ref.rsplit("/", 1)[-1], {})
        return found
    return schema


def _fields(schema: dict[str, Any], components: dict[str, Any]) -> list[dict[str, Any]]:
    body = _resolve(schema, components)
    required = set(body.get("required", []))
    fields = []
    for name, prop in (body.get("properties") or {}).items():
        prop = _resolve(prop, components)
        kinds = [p.get("type", "object") for p in prop.get("anyOf", [])] or [
            prop.get("type", "object")
        ]
        example = (prop.get("examples") or [None])[0]
        fields.append(
            {
                "name": name,
                "type": " | ".join(str(k) for k in kinds),
                "required": name in required,
                "description": prop.get("description", ""),
                "example": json.dumps(example) if example is not None else "",
            }
        )
    return fields


@router.get("/docs")
async def docs(request: Request) -> Response:
    """The API reference, rendered from the OpenAPI schema (no CDN, no script)."""
    schema = request.app.openapi()
    components = schema.get("components", {}).get("schemas", {})
    sections: dict[str, list[dict[str, Any]]] = {}
    for path, methods in schema["paths"].items():
        for method, op in methods.items():
            body = (
                op.get("requestBody", {})
                .get("content", {})
                .get("application/json", {})
                .get("schema")
            )
            sections.setdefault((op.get("tags") or ["other"])[0], []).append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "fields": _fields(body, components) if body else [],
                    "parameters": [p["name"] for p in op.get("parameters", [])],
                    "responses": sorted(op.get("responses", {})),
                }
            )
    return page(request, "docs.html", sections=sections, title=schema["info"]["title"])
