"""``HEAD`` on every ``GET`` route (RFC 9110 9.3.2): the same status and headers as ``GET``,
without the body. Uptime monitors and link checkers use it; FastAPI's routes answer only the
methods they name, so a ``GET`` page would otherwise answer 405."""

from __future__ import annotations

from collections.abc import Awaitable

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Not a coroutine of its own: any other request gets the next app's coroutine itself,
        # so this layer adds no frame to every await of every request (the token endpoint's).
        if scope["type"] != "http" or scope["method"] != "HEAD":
            return self.app(scope, receive, send)
        return self._head(scope, receive, send)

    async def _head(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        # The server keeps its own scope (method HEAD) and sends no body of its own accord.
        await self.app({**scope, "method": "GET"}, receive, headers_only)
