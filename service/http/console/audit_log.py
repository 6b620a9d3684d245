"""The console's audit log: the trail filtered by person, kind and day, and the same as CSV
(RFC 4180) for a spreadsheet or an auditor."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from service import audit
from service.auth import operators
from service.http.console.base import Admin, console_page
from service.http.deps import Ctx
from service.http.retry import RetryReadsRoute

router = APIRouter(route_class=RetryReadsRoute, include_in_schema=False)

PAGE = 200
EXPORT = 10_000
COLUMNS = ("at", "kind", "description", "user", "actor", "ip", "user_agent", "detail")


async def _events(
    ctx: Ctx, who: str, kind: str, day: str, limit: int
) -> tuple[list[dict[str, Any]], str]:
    """The matching events, newest first, and what was wrong with a filter ("" if nothing)."""
    user_id = None
    if who:
        found = await operators.find_user(ctx, who)
        if found is None:
            return [], "user"
        user_id = found.user.id
    since = None
    if day:
        try:
            since = datetime.combine(date.fromisoformat(day), time(), tzinfo=UTC)
        except ValueError:
            return [], "since"
    if kind and kind not in audit.KINDS:
        return [], "kind"
    found_events = await audit.search(
        ctx.db, user_id=user_id, kind=kind or None, since=since, limit=limit
    )
    return found_events, ""


Filter = Annotated[str, Query(max_length=320)]


@router.get("/console/audit")
async def audit_page(
    request: Request,
    ctx: Ctx,
    session: Admin,
    user: Filter = "",
    kind: Filter = "",
    since: Filter = "",
) -> Response:
    events, problem = await _events(ctx, user.strip(), kind, since, PAGE)
    return console_page(
        request,
        ctx,
        session,
        "audit.html",
        events=events,
        problem=problem,
        kinds=sorted(audit.KINDS),
        filters={"user": user, "kind": kind, "since": since},
    )


def _cell(value: object) -> str:
    """A spreadsheet must not run a cell as a formula (OWASP CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@router.get("/console/audit.csv")
async def audit_csv(
    ctx: Ctx, session: Admin, user: Filter = "", kind: Filter = "", since: Filter = ""
) -> Response:
    """Up to 10,000 events, newest first, with the page's filters."""
    events, _ = await _events(ctx, user.strip(), kind, since, EXPORT)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for event in events:
        writer.writerow([_cell(event[name]) for name in COLUMNS])
    stamp = ctx.clock.now().strftime("%Y%m%d-%H%M%S")
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="sesame-audit-{stamp}.csv"'},
    )
