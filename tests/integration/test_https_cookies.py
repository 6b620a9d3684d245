"""Outside http://localhost every cookie is Secure with the __Host- prefix."""

from __future__ import annotations

from tests.conftest import asgi_client
from tests.factories import Browser
from tests.softauthn import SoftAuthenticator


async def test_https_issuer_uses_secure_host_prefixed_cookies(make_app):
    app = make_app(issuer="https://id.example.com")
    async with asgi_client(app, "https://id.example.com") as client:
        page = await client.get("/signin")
        assert page.headers["set-cookie"].startswith("__Host-sesame_browser=")
        assert "Secure" in page.headers["set-cookie"]
        assert page.headers["strict-transport-security"].startswith("max-age=")
        browser = Browser(client)
        auth = SoftAuthenticator(origin="https://id.example.com")
        response = await browser.signup(auth)
        assert response.status_code == 200, response.text
        cookies = response.headers.get_list("set-cookie")
        session = next(c for c in cookies if c.startswith("__Host-sesame_session="))
        assert "Secure" in session and "HttpOnly" in session
        assert "samesite=lax" in session.lower()
        assert "Domain=" not in session and "Path=/" in session
        assert (await client.get("/account")).status_code == 200
        # The http://localhost origin is not allowed for this issuer.
        assert (await browser.signin(auth, origin="http://localhost:8000")).status_code == 400
