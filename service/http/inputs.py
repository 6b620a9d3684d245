"""The edge: every text input is checked against ``service.text`` before a route runs.

A plain ASGI middleware reads the query string, the path and, for form and JSON bodies, the body
(already capped at 64 KiB by ``SecurityMiddleware``, which runs first), and replays the body to
the app unchanged. A request that breaks the rule never reaches a route, so no store is touched:
the middleware answers it with ``refuse`` (``service.http.errors.bad_input_response``: RFC 6749
JSON on the back channel, JSON on the APIs, a page elsewhere).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.text import text_problem

BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


# Where a form body's checked pairs, and a JSON body's checked object, are left in the scope's
# state for the routes answered before FastAPI's router (``service.http.direct``), which then
# never parse the body again.
FORM_PAIRS = "form_pairs"
JSON_BODY = "json_body"


def _pairs(raw: bytes, where: str) -> list[tuple[str, str]] | str:
    """The pairs of a query string or form body, or what is wrong with them."""
    try:
        pairs = parse_qsl(
            raw.decode("latin-1"), keep_blank_values=True, encoding="utf-8", errors="strict"
        )
    except (UnicodeDecodeError, ValueError):
        return f"the {where} is not valid UTF-8"
    for name, value in pairs:
        problem = text_problem(name, 100) or text_problem(value)
        if problem:
            return f"{where} parameter {name[:40]!r} {problem}"
    return pairs


def _pairs_problem(raw: bytes, where: str) -> str | None:
    checked = _pairs(raw, where)
    return checked if isinstance(checked, str) else None


def _strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path or "body", value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield f"{path}.{key}" if path else str(key), str(key)
            yield from _strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")


def _json_problem(body: bytes, scope: Scope, content_type: bytes) -> str | None:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None  # not JSON at all: the route's own parsing answers 400
    for where, text in _strings(data):
        # A JSON string may be as long as the body allows (an attestation object is a few KiB);
        # fields stored in a column are held to its length by the route's model.
        problem = text_problem(text, 64 * 1024)
        if problem:
            return f"{where[:60]!r} {problem}"
    if isinstance(data, dict) and content_type.startswith(b"application/json"):
        scope.setdefault("state", {})[JSON_BODY] = data
    return None


def input_problem(scope: Scope, body: bytes | None) -> str | None:
    problem = text_problem(scope.get("path", ""), 4096)
    if problem:
        return f"the path {problem}"
    problem = _pairs_problem(scope.get("query_string", b""), "query")
    if problem or body is None:
        return problem
    content_type = _header(scope, b"content-type")
    if content_type.startswith(b"application/x-www-form-urlencoded"):
        checked = _pairs(body, "form")
        if isinstance(checked, str):
            return checked
        scope.setdefault("state", {})[FORM_PAIRS] = checked
        return None
    if b"json" in content_type:
        return _json_problem(body, scope, content_type)
    return None


def _header(scope: Scope, name: bytes) -> bytes:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).lower()
    return b""


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


Refuse = Callable[[Request, str], Response]


class InputGuard:
    def __init__(self, app: ASGIApp, refuse: Refuse) -> None:
        self.app = app
        self.refuse = refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = None
        if scope["method"] in BODY_METHODS and (
            _header(scope, b"content-type").startswith(b"application/x-www-form-urlencoded")
            or b"json" in _header(scope, b"content-type")
        ):
            body = await _read_body(receive)
            receive = _replay(body, receive)
        problem = input_problem(scope, body)
        if problem:
            response = self.refuse(Request(scope, receive), problem)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
