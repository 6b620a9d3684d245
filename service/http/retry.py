"""A read whose database connection died under it is tried once more, transparently.

Pooled connections are pinged before use, so a connection that died while idle is replaced
before a request sees it; this covers the rest: one that the server ends between the ping and
the query (a restart, a failover, an operator terminating backends). Only GET and HEAD (reads,
safe to repeat by RFC 9110 9.2.1), only when the connection itself was lost (not when the
database cannot be reached at all: that stays one quick 503), and only once. Every router uses
this route class, so the retry runs inside the error mapping: a second failure is the usual 503.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from sqlalchemy.exc import DBAPIError
from starlette.requests import Request
from starlette.responses import Response

log = logging.getLogger("sesame.http")

# The server ended this session (admin or crash shutdown, terminated backend).
_SESSION_ENDED = ("57P01", "57P02")


def connection_lost(exc: BaseException) -> bool:
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    cause: BaseException | None = exc.orig
    while cause is not None:
        if str(getattr(cause, "sqlstate", "")).startswith(_SESSION_ENDED):
            return True
        if type(cause).__name__ == "ConnectionDoesNotExistError":
            return True
        cause = cause.__cause__
    return False


class RetryReadsRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def retrying(request: Request) -> Response:
            if request.method not in {"GET", "HEAD"}:
                return await handler(request)
            try:
                return await handler(request)
            except Exception as exc:
                if not connection_lost(exc):
                    raise
                log.info(
                    "retrying %s %s on a new connection: %s",
                    request.method,
                    request.url.path,
                    str(exc).splitlines()[0][:200],
                )
                return await handler(request)

        return retrying
