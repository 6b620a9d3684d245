"""A relying party for HTTP-level protocol tests: it registers a client in Sesame and drives the
code flow through a scripted :class:`Browser`, talking to the back-channel endpoints with a
separate cookie-less client, the way an app's server would."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from joserfc import jwt
from joserfc.jwk import KeySet

from service.oidc.clients import ClientSpec, create_client
from tests.conftest import asgi_client
from tests.factories import Browser

REDIRECT = "https://app.example/callback"


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


@dataclass
class Flow:
    """One authorization request and what came back."""

    state: str
    nonce: str
    verifier: str | None
    location: str = ""
    params: dict[str, str] = field(default_factory=dict)


@dataclass
class RelyingParty:
    app: Any
    client_id: str
    secret: str | None
    redirect_uri: str = REDIRECT

    @classmethod
    async def register(cls, app: Any, **spec: Any) -> RelyingParty:
        values: dict[str, Any] = {
            "name": "Test app",
            "redirect_uris": [REDIRECT],
            "post_logout_redirect_uris": ["https://app.example/bye"],
            "first_party": True,
        }
        values.update(spec)
        row, secret = await create_client(app.state.oidc, ClientSpec(**values))
        return cls(app, row.client_id, secret, (values["redirect_uris"] or [""])[0])

    def authorize_params(self, flow: Flow, **extra: Any) -> dict[str, str]:
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": "openid profile email",
            "state": flow.state,
            "nonce": flow.nonce,
        }
        if flow.verifier:
            params["code_challenge"] = pkce_pair_for(flow.verifier)
            params["code_challenge_method"] = "S256"
        params.update({k: v for k, v in extra.items() if v is not None})
        return {k: v for k, v in params.items() if v != ""}

    def new_flow(self, pkce: bool = True) -> Flow:
        return Flow(
            state=secrets.token_urlsafe(8),
            nonce=secrets.token_urlsafe(8),
            verifier=secrets.token_urlsafe(48) if pkce else None,
        )

    async def start(self, browser: Browser, flow: Flow, **extra: Any) -> httpx.Response:
        """The browser opens the authorization URL (no redirects followed)."""
        query = urlencode(self.authorize_params(flow, **extra))
        return await browser.client.get(f"/authorize?{query}")

    async def follow_to_app(self, browser: Browser, response: httpx.Response, flow: Flow) -> Flow:
        """Follow Sesame's own redirects until one leaves for the app."""
        for _ in range(5):
            assert response.status_code in (302, 303), (response.status_code, response.text)
            location = response.headers["location"]
            if location.startswith(self.redirect_uri):
                flow.location = location
                flow.params = query_of(location)
                return flow
            response = await browser.client.get(location)
        raise AssertionError("no redirect back to the app")

    async def authorize(self, browser: Browser, flow: Flow | None = None, **extra: Any) -> Flow:
        """A browser that is already signed in (and consented, or first-party) gets a code."""
        flow = flow or self.new_flow()
        return await self.follow_to_app(browser, await self.start(browser, flow, **extra), flow)

    def back_channel(self) -> httpx.AsyncClient:
        """The app's server talking to Sesame: in process, or to a running one by URL."""
        if isinstance(self.app, str):
            return httpx.AsyncClient(base_url=self.app)
        return asgi_client(self.app)

    async def token(self, data: dict[str, str], *, auth: str = "basic") -> httpx.Response:
        headers = {}
        body = dict(data)
        if auth == "basic" and self.secret:
            raw = f"{self.client_id}:{self.secret}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(raw).decode()
        elif auth == "post" and self.secret:
            body.update(client_id=self.client_id, client_secret=self.secret)
        else:
            body.setdefault("client_id", self.client_id)
        async with self.back_channel() as rp:
            return await rp.post("/token", data=body, headers=headers)

    def code_grant(self, flow: Flow, **overrides: str) -> dict[str, str]:
        """The token request's form for ``flow``'s code (RFC 6749 4.1.3); "" drops a field."""
        data = {
            "grant_type": "authorization_code",
            "code": flow.params["code"],
            "redirect_uri": self.redirect_uri,
        }
        if flow.verifier:
            data["code_verifier"] = flow.verifier
        data.update(overrides)
        return {k: v for k, v in data.items() if v != ""}

    async def exchange(self, flow: Flow, **overrides: str) -> httpx.Response:
        return await self.token(self.code_grant(flow, **overrides))

    async def refresh(self, refresh_token: str, **extra: str) -> httpx.Response:
        return await self.token(
            {"grant_type": "refresh_token", "refresh_token": refresh_token, **extra}
        )

    async def tokens(self, browser: Browser, **extra: Any) -> dict[str, Any]:
        """Authorize and exchange: the token response of a successful flow."""
        flow = await self.authorize(browser, **extra)
        response = await self.exchange(flow)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        body["_flow"] = flow
        return body

    async def jwks(self) -> KeySet:
        async with self.back_channel() as rp:
            return KeySet.import_key_set((await rp.get("/jwks.json")).json())

    async def id_claims(self, id_token: str, alg: str = "RS256") -> dict[str, Any]:
        """Signature checked against the published JWKS."""
        token = jwt.decode(id_token, await self.jwks(), algorithms=[alg])
        return dict(token.claims)

    async def userinfo(self, access_token: str, method: str = "GET") -> httpx.Response:
        async with self.back_channel() as rp:
            return await rp.request(
                method, "/userinfo", headers={"Authorization": f"Bearer {access_token}"}
            )


def pkce_pair_for(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
