"""A scripted browser for HTTP-level tests: it keeps cookies, reads the CSRF token from the page
and runs ceremonies with a :class:`SoftAuthenticator`."""

from __future__ import annotations

import re
import secrets
from typing import Any

import httpx

from tests.softauthn import SoftAuthenticator


def new_username() -> str:
    return f"user{secrets.token_hex(4)}"


class Browser:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self._csrf: str | None = None

    async def csrf(self) -> str:
        if self._csrf is None:
            page = await self.client.get("/signup", follow_redirects=True)
            found = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
            assert found, page.text
            self._csrf = found.group(1)
        return self._csrf

    def _seen(self, response: httpx.Response) -> httpx.Response:
        # A sign-in rotates the browser id, and with it the CSRF token of the next page.
        if any("sesame_browser=" in c for c in response.headers.get_list("set-cookie")):
            self._csrf = None
        return response

    async def post(self, url: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        headers = {"X-CSRF-Token": await self.csrf(), "Accept": "application/json"}
        headers.update(kwargs.pop("headers", {}))
        return self._seen(
            await self.client.post(
                url, json=body if body is not None else {}, headers=headers, **kwargs
            )
        )

    async def form(self, url: str, data: dict[str, str] | None = None) -> httpx.Response:
        payload = {"csrf_token": await self.csrf(), **(data or {})}
        return self._seen(await self.client.post(url, data=payload))

    async def begin_signup(
        self, username: str | None = None, email: str | None = None, name: str = ""
    ) -> httpx.Response:
        username = username or new_username()
        email = email or f"{username}@example.com"
        return await self.post(
            "/signup/begin", {"username": username, "email": email, "name": name}
        )

    async def signup(
        self,
        auth: SoftAuthenticator,
        username: str | None = None,
        email: str | None = None,
        name: str = "",
        **create: Any,
    ) -> httpx.Response:
        begun = await self.begin_signup(username, email, name)
        assert begun.status_code == 200, begun.text
        data = begun.json()
        credential = auth.create(data["publicKey"], **create)
        return await self.post(
            "/signup/finish", {"ceremony": data["ceremony"], "credential": credential}
        )

    async def begin_signin(self, username: str | None = None) -> dict[str, Any]:
        begun = await self.post("/signin/begin", {"username": username} if username else {})
        assert begun.status_code == 200, begun.text
        data: dict[str, Any] = begun.json()
        return data

    async def signin(
        self,
        auth: SoftAuthenticator,
        username: str | None = None,
        next: str | None = None,
        **get: Any,
    ) -> httpx.Response:
        data = await self.begin_signin(username)
        credential = auth.get(data["publicKey"], **get)
        body: dict[str, Any] = {"ceremony": data["ceremony"], "credential": credential}
        if next:
            body["next"] = next
        return await self.post("/signin/finish", body)

    async def add_passkey(self, auth: SoftAuthenticator, **create: Any) -> httpx.Response:
        begun = await self.post("/account/passkeys/begin")
        assert begun.status_code == 200, begun.text
        data = begun.json()
        credential = auth.create(data["publicKey"], **create)
        return await self.post(
            "/account/passkeys/finish", {"ceremony": data["ceremony"], "credential": credential}
        )


async def signed_up(
    client: httpx.AsyncClient, name: str = "Grace"
) -> tuple[Browser, SoftAuthenticator, str]:
    """A browser with a new account and its passkey, signed in."""
    browser, auth, username = Browser(client), SoftAuthenticator(), new_username()
    response = await browser.signup(auth, username=username, name=name)
    assert response.status_code == 200, response.text
    return browser, auth, username
