"""The language picker (``POST /language``) and what a language changes on the protocol side:
CSRF like every form, only same-site paths to go back to, unknown languages ignored, a choice
made on an app's pages replacing its ui_locales; errors of the JSON calls in the page's
language."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from tests.factories import Browser
from tests.rp import RelyingParty


async def _csrf(client) -> str:
    page = (await client.get("/signin")).text
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


async def test_the_picker_remembers_a_language_and_goes_back_only_to_this_site(client):
    token = await _csrf(client)
    refused = await client.post("/language", data={"lang": "de", "next": "/signup"})
    assert refused.status_code == 403 and "sesame_lang" not in refused.headers.get("set-cookie", "")
    chosen = await client.post(
        "/language", data={"csrf_token": token, "lang": "de", "next": "/signup"}
    )
    assert chosen.status_code == 303 and chosen.headers["location"] == "/signup"
    assert "sesame_lang=de" in chosen.headers["set-cookie"]
    page = await client.get("/signup")
    assert '<html lang="de"' in page.text and page.headers["content-language"] == "de"
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        sent = await client.post(
            "/language", data={"csrf_token": token, "lang": "fr", "next": target}
        )
        assert sent.status_code == 303 and sent.headers["location"] == "/", target
    ignored = await client.post("/language", data={"csrf_token": token, "lang": "xx"})
    assert "sesame_lang" not in ignored.headers.get("set-cookie", "")
    assert '<html lang="fr"' in (await client.get("/signin")).text  # the last valid choice


async def test_json_errors_follow_the_pages_language(client):
    browser = Browser(client)
    wrong = await browser.post(
        "/signup/begin",
        {"username": "x", "email": "nope", "name": ""},
        headers={"Accept-Language": "es"},
    )
    assert wrong.status_code == 400
    body = wrong.json()
    assert (
        body["fields"]["email"]
        == "Introduce una dirección de correo válida, como nombre@example.com."
    )
    assert body["message"].startswith("Los nombres de usuario tienen de 3 a 32")
    english = await browser.post("/signup/begin", {"username": "x", "email": "nope", "name": ""})
    assert english.json()["fields"]["email"].startswith("Enter a valid email address")


async def test_ui_locales_then_a_choice_on_the_apps_pages(app, client):
    rp = await RelyingParty.register(app, name="Boutique", first_party=False)
    asked = await rp.start(Browser(client), rp.new_flow(), ui_locales="pt-BR fr")
    signin = asked.headers["location"]
    page = await client.get(signin)
    assert '<html lang="pt-BR"' in page.text and "para continuar em" in page.text
    assert "sesame_lang=pt_BR" in page.headers["set-cookie"]  # this browser session follows
    uid = parse_qs(urlsplit(signin).query)["interaction"][0]
    token = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
    await client.post("/language", data={"csrf_token": token, "lang": "de", "next": signin})
    again = await client.get(f"/signin?interaction={uid}")
    assert '<html lang="de"' in again.text and "um mit" in again.text
    discovery = (await client.get("/.well-known/openid-configuration")).json()
    assert discovery["ui_locales_supported"] == ["en", "de", "fr", "es", "pt-BR"]
