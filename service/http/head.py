"""``HEAD`` on every ``GET`` route (RFC 9110 9.3.2): the same status and headers as ``GET``,
without the body. Uptime monitors and link checkers use it; FastAPI's routes answer only the
methods they name, so a ``GET`` page would otherwise answer 405."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        # The server keeps its own scope (method HEAD) and sends no body of its own accord.
        await self.app({**scope, "method": "GET"}, receive, headers_only)
