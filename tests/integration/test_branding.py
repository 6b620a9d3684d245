"""The deployer's brand (name, logo, accent, help and legal links) and each app's own logo and
links on the hosted pages (issue 14), on both backends."""

from __future__ import annotations

import http.server
import re
import threading
from collections.abc import Iterator

import pytest

from service.http.theme import contrast
from service.settings import Settings
from tests.conftest import asgi_client
from tests.factories import Browser, signed_up
from tests.integration.test_oidc_admin import ADMIN, sesame, sesame_json
from tests.processes import free_port
from tests.rp import RelyingParty

SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 9 9"><rect width="9" height="9"/></svg>'
)
PNG = bytes.fromhex("89504e470d0a1a0a") + b"fake png body"


@pytest.fixture
def logo_server() -> Iterator[str]:
    """An app's or a company's web server, holding a PNG and an HTML page."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body, kind = (PNG, "image/png") if self.path == "/logo.png" else (b"<p>", "text/html")
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def _variables(css: str) -> dict[str, str]:
    light = css.split("@media")[0]
    return dict(re.findall(r"--([a-z-]+): (#[0-9a-f]{6})", light))


async def test_the_deployers_name_logo_colour_and_links_are_on_every_page(make_app, tmp_path):
    logo = tmp_path / "acme.svg"
    logo.write_bytes(SVG)
    app = make_app(
        rp_name="Acme ID",
        brand_logo=str(logo),
        brand_accent="#ffd400",  # a yellow: white text on it would fail AA
        support_url="https://help.acme.example/",
        privacy_url="https://acme.example/privacy",
        terms_url="mailto:legal@acme.example",
    )
    async with asgi_client(app) as client:
        for path in ("/signin", "/signup", "/nope-404"):
            page = (await client.get(path)).text
            assert "Acme ID" in page and "Sesame" not in page, path
            footer = re.search(r'<footer class="legal" id="legal">(.*?)</footer>', page, re.S)
            assert footer is not None, path
            links = re.findall(r'<a href="([^"]+)" rel="noopener">([^<]+)</a>', footer.group(1))
            assert links == [
                ("https://help.acme.example/", "Help"),
                ("https://acme.example/privacy", "Privacy"),
                ("mailto:legal@acme.example", "Terms"),
            ]
        page = (await client.get("/signin")).text
        logo_src = re.search(r'<a class="brand" href="/"><img src="([^"]+)"', page).group(1)
        served = await client.get(logo_src)
        assert served.status_code == 200 and served.content == SVG
        assert served.headers["content-type"].startswith("image/svg+xml")
        assert "sandbox" in served.headers["content-security-policy"]
        theme_href = re.search(r'<link rel="stylesheet" href="(/branding/theme\.css[^"]*)"', page)
        theme = await client.get(theme_href.group(1))
        assert theme.status_code == 200 and theme.headers["content-type"].startswith("text/css")
        light = _variables(theme.text)
        assert light["accent"] == "#ffd400" and light["accent-fg"] == "#111111"
        assert contrast(light["accent-fg"], light["accent"]) >= 4.5
        # Links in yellow on a white card would be unreadable: darkened until AA.
        assert light["link"] != "#ffd400" and contrast(light["link"], "#ffffff") >= 4.5
        dark = re.search(r"--link: (#[0-9a-f]{6})", theme.text.split("@media")[1]).group(1)
        assert contrast(dark, "#1b1f26") >= 4.5
        # Pages stay under the strict policy: no inline style, images from Sesame only.
        csp = (await client.get("/signin")).headers["content-security-policy"]
        assert "style-src 'self';" in csp and "img-src 'self' data:;" in csp


async def test_the_default_brand_is_sesame_with_no_footer(client):
    page = (await client.get("/signin")).text
    assert "<span>Sesame</span>" in page and 'rel="noopener"' not in page
    assert (await client.get("/branding/logo")).status_code == 404
    theme = (await client.get("/branding/theme.css")).text
    light = _variables(theme)
    assert light["accent"] == "#2f5bd3" and light["accent-fg"] == "#ffffff"
    assert light["link"] == "#2f5bd3"  # already AA on white: left as chosen


async def test_a_logo_url_is_fetched_once_and_served_by_sesame(make_app, logo_server, caplog):
    app = make_app(brand_logo=f"{logo_server}/logo.png")
    async with asgi_client(app) as client:
        served = await client.get("/branding/logo")
        assert served.status_code == 200 and served.content == PNG
        assert served.headers["content-type"] == "image/png"
        assert 'src="/branding/logo?v=' in (await client.get("/signin")).text
    # Something that is not an image: logged, and the name shown instead; sign-in unaffected.
    app = make_app(brand_logo=f"{logo_server}/page.html")
    assert "cannot be used" in caplog.text and "not an image type" in caplog.text
    async with asgi_client(app) as client:
        assert (await client.get("/branding/logo")).status_code == 404
        page = await client.get("/signin")
        assert page.status_code == 200 and "/branding/logo" not in page.text


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("brand_accent", "blue"),
        ("brand_accent", "#12345"),
        ("support_url", "javascript:alert(1)"),
        ("privacy_url", "ftp://acme.example/"),
    ],
)
def test_a_brand_setting_that_cannot_be_used_is_refused_at_start(name, value):
    with pytest.raises(ValueError, match=f"SESAME_{name.upper()}"):
        Settings(**{name: value})


async def test_an_apps_logo_and_links_show_on_its_sign_in_and_consent_pages(app, client):
    links = {
        "logo_uri": "https://cdn.elsewhere.example/logo.png",
        "client_uri": "https://elsewhere.example/",
        "policy_uri": "https://elsewhere.example/privacy",
        "tos_uri": "https://elsewhere.example/terms",
    }
    rp = await RelyingParty.register(app, name="Elsewhere", first_party=False, links=links)
    asked = await rp.start(Browser(client), rp.new_flow())
    page = await client.get(asked.headers["location"])
    assert 'src="https://cdn.elsewhere.example/logo.png"' in page.text
    shown = re.search(r'<p class="muted app-links" id="app-links">(.*?)</p>', page.text, re.S)
    hrefs = re.findall(r'href="([^"]+)"', shown.group(1))
    assert hrefs == [links["client_uri"], links["policy_uri"], links["tos_uri"]]
    csp = page.headers["content-security-policy"]
    assert "img-src 'self' data: https://cdn.elsewhere.example;" in csp
    signed_in, _, _ = await signed_up(client)
    consent = await rp.start(signed_in, rp.new_flow())
    assert consent.status_code == 200 and 'id="app-logo"' in consent.text
    csp = consent.headers["content-security-policy"]
    assert "img-src 'self' data: https://cdn.elsewhere.example;" in csp
    assert "form-action 'self' https://app.example" in csp
    # An app without links: its pages keep the strict default.
    plain = await RelyingParty.register(app, name="Plain", first_party=False)
    page = await plain.start(signed_in, plain.new_flow())
    assert "img-src 'self' data:;" in page.headers["content-security-policy"]
    assert 'id="app-logo"' not in page.text


async def test_an_app_gets_its_links_and_new_redirect_uris_through_the_admin_api(make_app):
    auth = {"Authorization": f"Bearer {ADMIN}"}
    async with asgi_client(make_app(admin_token=ADMIN)) as c:
        created = await c.post(
            "/admin/clients",
            headers=auth,
            json={
                "name": "Acme",
                "redirect_uris": ["https://acme.example/cb"],
                "logo_uri": "https://acme.example/logo.svg",
                "policy_uri": "https://acme.example/privacy",
            },
        )
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["logo_uri"] == "https://acme.example/logo.svg"
        assert body["policy_uri"] == "https://acme.example/privacy" and body["tos_uri"] is None
        client_id = body["client_id"]
        changed = await c.patch(
            f"/admin/clients/{client_id}",
            headers=auth,
            json={
                "redirect_uris": ["https://new.acme.example/cb"],
                "tos_uri": "https://acme.example/terms",
                "policy_uri": "",
            },
        )
        assert changed.status_code == 200, changed.text
        view = changed.json()
        assert view["redirect_uris"] == ["https://new.acme.example/cb"]
        assert view["logo_uri"] == "https://acme.example/logo.svg"  # left as it was
        assert view["tos_uri"] == "https://acme.example/terms" and view["policy_uri"] is None
        for bad in (
            {"logo_uri": "http://acme.example/logo.png"},
            {"logo_uri": "https://user:pw@acme.example/logo.png"},
            {"redirect_uris": []},
            {"redirect_uris": ["https://acme.example/cb#frag"]},
        ):
            refused = await c.patch(f"/admin/clients/{client_id}", headers=auth, json=bad)
            assert refused.status_code in (400, 422), (bad, refused.text)
            # RFC 7591 3.2.2's codes for metadata, or a schema refusal.
            error = refused.json()["error"]
            assert error in {"invalid_client_metadata", "invalid_request"}, refused.text
        unchanged = (await c.get(f"/admin/clients/{client_id}", headers=auth)).json()
        assert unchanged == view


def test_the_cli_sets_links_and_replaces_redirect_uris(backend):
    made = sesame_json(
        backend, "clients", "create", "--name", "Demo",
        "--redirect-uri", "http://localhost:5000/callback",
        "--logo-uri", "https://demo.example/logo.png",
    )  # fmt: skip
    assert made["logo_uri"] == "https://demo.example/logo.png"
    moved = sesame_json(
        backend, "clients", "update", made["client_id"],
        "--redirect-uri", "http://localhost:5001/callback",
        "--post-logout-redirect-uri", "http://localhost:5001/",
        "--client-uri", "https://demo.example/",
    )  # fmt: skip
    assert moved["redirect_uris"] == ["http://localhost:5001/callback"]
    assert moved["post_logout_redirect_uris"] == ["http://localhost:5001/"]
    assert moved["client_uri"] == "https://demo.example/"
    assert moved["logo_uri"] == "https://demo.example/logo.png"
    refused = sesame(
        backend, "clients", "update", made["client_id"], "--redirect-uri", "ftp://x.example/cb"
    )
    assert refused.returncode == 2 and "redirect URI" in refused.stderr
