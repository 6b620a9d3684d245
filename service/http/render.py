"""Jinja2 pages: every page gets the CSRF token and the signed-in user, if any."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
templates = Jinja2Templates(directory=str(WEB_DIR / "templates"))


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    ctx = request.app.state.ctx
    context.setdefault("user", None)
    context["csrf_token"] = ctx.keys.csrf_token(request.state.browser_id)
    context["rp_name"] = ctx.settings.rp_name
    return templates.TemplateResponse(request, template, context, status_code=status_code)
