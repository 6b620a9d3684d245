"""WebAuthn related origin requests (L3 5.11): a company's other sites may use this RP ID's
passkeys when ``SESAME_RELATED_ORIGINS`` lists them; Sesame publishes them at
``/.well-known/webauthn`` and accepts them in ceremonies, and no other origin."""

from __future__ import annotations

import pytest

from service.settings import Settings
from tests.conftest import asgi_client
from tests.factories import signed_up

RELATED = ["https://acme.de", "https://login.acme.co.uk:8443"]


async def test_related_origins_are_published_and_accepted(make_app):
    app = make_app(related_origins=[*RELATED, "HTTPS://Acme.De/"])
    async with asgi_client(app) as client:
        published = await client.get("/.well-known/webauthn")
        assert published.status_code == 200
        assert published.headers["content-type"] == "application/json"
        assert published.json() == {"origins": RELATED}
        browser, auth, _ = await signed_up(client)
        for origin in RELATED:
            await client.post("/signout", data={"csrf_token": await browser.csrf()})
            browser._csrf = None
            done = await browser.signin(auth, origin=origin)
            assert done.status_code == 200, (origin, done.text)
            assert (await client.get("/account")).status_code == 200
        await client.post("/signout", data={"csrf_token": await browser.csrf()})
        browser._csrf = None
        refused = await browser.signin(auth, origin="https://acme-login.example")
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_response"
        assert (await client.get("/account")).status_code == 303


async def test_without_related_origins_there_is_no_document_and_only_the_issuer(client):
    assert (await client.get("/.well-known/webauthn")).status_code == 404
    browser, auth, _ = await signed_up(client)
    refused = await browser.signin(auth, origin="https://acme.de")
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_response"


@pytest.mark.parametrize(
    "value", ["http://acme.de", "https://acme.de/login", "acme.de", "https://user@acme.de"]
)
def test_a_related_origin_must_be_an_https_origin(value):
    with pytest.raises(ValueError, match="SESAME_RELATED_ORIGINS"):
        Settings(related_origins=[value])
