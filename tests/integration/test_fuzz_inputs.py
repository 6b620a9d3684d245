"""Bad input never gets a 5xx: NUL and other control characters, overlong strings, lone
surrogates, broken URLs and repeated parameters, sent to every protocol, ceremony, hosted-page,
passkey-API and admin input (Hypothesis). Red-team finding: on PostgreSQL, a NUL in any string
that reached a query, a string longer than its column, or ``https://[::1`` as a redirect URI
answered 500, while SQLite accepted them; so this runs on both backends, PostgreSQL included.

Each answer must be a 4xx (or a success, for inputs that happen to be fine) in the form the
endpoint speaks: RFC 6749 JSON on the back channel, JSON on the APIs, a page elsewhere.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service import passkey_api
from tests.conftest import asgi_client
from tests.factories import Browser, signed_up
from tests.integration.helpers import credentials_of
from tests.rp import RelyingParty

ADMIN = "admin-token-" + "f" * 32
NASTY = [
    "\x00",
    "a\x00b",
    "x" * 70,
    "x" * 150,
    "x" * 257,
    "é" * 300,
    "x" * 5000,
    "\ud800",
    "a\ud83d",
    "\x1b[31m",
    "line\nbreak",
    "https://[::1",
    "https://[::1]:99999/cb",
    "http://",
    "//evil.example",
    "%00",
    "%ff",
    "%",
    "\u202e",
    "😀" * 70,
    " ",
    "null",
]
values = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=40),
    st.text(min_size=60, max_size=400),
    st.builds(lambda a, b: a + b, st.sampled_from(NASTY), st.text(max_size=20)),
)
FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def json_body(data: Any) -> bytes:
    # json.dumps keeps lone surrogates as \ud800 escapes, as a hostile client can send them.
    return json.dumps(data).encode()


def form_body(pairs: list[tuple[str, str]]) -> bytes:
    from urllib.parse import quote

    return "&".join(
        f"{quote(k, safe='')}={quote(v.encode('utf-8', 'surrogatepass'), safe='')}"
        for k, v in pairs
    ).encode()


def query(pairs: list[tuple[str, str]]) -> str:
    return form_body(pairs).decode()


@dataclass
class Target:
    """A running Sesame with what a fuzzed request needs: a registered client, a signed-in
    browser, a passkey-API tenant key, the admin token."""

    app: Any
    rp: RelyingParty
    browser: Browser
    csrf: str
    api_key: str
    passkey_pk: int
    calls: list[tuple[str, str, int]]

    async def send(
        self,
        method: str,
        url: str,
        *,
        content: bytes | None = None,
        kind: str = "",
        headers: dict[str, str] | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> httpx.Response:
        sent = dict(headers or {})
        if kind == "form":
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        elif kind == "json":
            sent["Content-Type"] = "application/json"
        who = client or self.browser.client
        response = await who.request(method, url, content=content, headers=sent)
        self.calls.append((method, url.split("?")[0], response.status_code))
        assert response.status_code < 500, (method, url, content, response.text[:300])
        if response.status_code >= 400 and response.headers.get("content-type", "").startswith(
            "application/json"
        ):
            assert "error" in response.json()
        return response


@pytest.fixture
async def target(make_app):
    app = make_app(admin_token=ADMIN)
    async with asgi_client(app) as c:
        browser, _, username = await signed_up(c)
        passkey_pk = (await credentials_of(app, username))[0].id
        rp = await RelyingParty.register(app)
        _, key = await passkey_api.create_tenant(
            app.state.ctx, "fuzz", "fuzz.example", ["https://fuzz.example"]
        )
        yield Target(app, rp, browser, await browser.csrf(), key, passkey_pk, [])


def basic(client_id: str, secret: str) -> str:
    raw = f"{client_id}:{secret}".encode("utf-8", "surrogatepass")
    return "Basic " + base64.b64encode(raw).decode()


AUTHORIZE_FIELDS = [
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "prompt",
    "max_age",
    "login_hint",
    "id_token_hint",
    "response_mode",
    "resource",
]


@FUZZ
@given(
    field=st.sampled_from(AUTHORIZE_FIELDS), value=values, method=st.sampled_from(["GET", "POST"])
)
async def test_authorize(target, field, value, method):
    params = dict(target.rp.authorize_params(target.rp.new_flow()))
    params[field] = value
    pairs = list(params.items())
    if method == "GET":
        await target.send("GET", f"/authorize?{query(pairs)}")
    else:
        await target.send("POST", "/authorize", content=form_body(pairs), kind="form")
    # The same value given twice.
    await target.send("GET", f"/authorize?{query([*pairs, (field, value)])}")


TOKEN_FIELDS = [
    "grant_type",
    "code",
    "redirect_uri",
    "code_verifier",
    "refresh_token",
    "device_code",
    "resource",
    "client_id",
    "client_secret",
    "scope",
]


@FUZZ
@given(
    field=st.sampled_from(TOKEN_FIELDS),
    value=values,
    grant=st.sampled_from(
        [
            "authorization_code",
            "refresh_token",
            "client_credentials",
            "urn:ietf:params:oauth:grant-type:device_code",
        ]
    ),
)
async def test_token(target, field, value, grant):
    params = {
        "grant_type": grant,
        "device_code": "d" * 43,
        "code": "c" * 43,
        "redirect_uri": target.rp.redirect_uri,
        "refresh_token": "r" * 22 + "." + "s" * 43,
        "code_verifier": "v" * 50,
    }
    params[field] = value
    await target.send("POST", "/token", content=form_body(list(params.items())), kind="form")
    header = {"Authorization": basic(value, "secret")}
    await target.send(
        "POST", "/token", content=form_body([("grant_type", grant)]), kind="form", headers=header
    )
    header = {"Authorization": basic(target.rp.client_id, value)}
    await target.send(
        "POST", "/token", content=form_body([("grant_type", grant)]), kind="form", headers=header
    )


@FUZZ
@given(
    value=values,
    path=st.sampled_from(["/revoke", "/introspect", "/device_authorization"]),
    field=st.sampled_from(["token", "token_type_hint", "client_id", "scope"]),
)
async def test_revoke_introspect_userinfo(target, value, path, field):
    auth = {"Authorization": basic(target.rp.client_id, target.rp.secret or "")}
    params = {"token": "t" * 40, field: value}
    await target.send(
        "POST", path, content=form_body(list(params.items())), kind="form", headers=auth
    )
    bearer = value.encode("utf-8", "surrogatepass").decode("latin-1", "replace")
    if all(32 <= ord(ch) < 127 for ch in bearer):
        await target.send("GET", "/userinfo", headers={"Authorization": f"Bearer {bearer}"})
    await target.send(
        "POST", "/userinfo", content=form_body([("access_token", value)]), kind="form"
    )


@FUZZ
@given(
    value=values,
    field=st.sampled_from(
        [
            "id_token_hint",
            "post_logout_redirect_uri",
            "client_id",
            "state",
            "logout_hint",
            "ui_locales",
        ]
    ),
)
async def test_logout(target, value, field):
    async with asgi_client(target.app) as anonymous:
        await target.send("GET", f"/logout?{query([(field, value)])}", client=anonymous)
        await target.send(
            "POST", "/logout", content=form_body([(field, value)]), kind="form", client=anonymous
        )


CEREMONY_BODIES: list[tuple[str, Callable[[str], dict[str, Any]]]] = [
    ("/signup/begin", lambda v: {"username": v, "email": "a@example.com", "name": "n"}),
    ("/signup/begin", lambda v: {"username": "valid-name", "email": v, "name": "n"}),
    ("/signup/begin", lambda v: {"username": "valid-name", "email": "a@example.com", "name": v}),
    ("/signin/begin", lambda v: {"username": v}),
    ("/signin/finish", lambda v: {"ceremony": v, "credential": {"rawId": "AAAA"}}),
    ("/signin/finish", lambda v: {"ceremony": "c", "credential": {"rawId": v, "id": v}}),
    ("/signup/finish", lambda v: {"ceremony": "c", "credential": {}, "next": v}),
    ("/account/passkeys/finish", lambda v: {"ceremony": v, "credential": {"response": v}}),
    ("/account/step-up/finish", lambda v: {"ceremony": "c", "credential": {"rawId": v}}),
]


@FUZZ
@given(case=st.sampled_from(CEREMONY_BODIES), value=values)
async def test_ceremonies(target, case, value):
    path, body = case
    await target.send(
        "POST",
        path,
        content=json_body(body(value)),
        kind="json",
        headers={"X-CSRF-Token": target.csrf, "Accept": "application/json"},
    )


PAGE_FORMS = [
    ("POST", "/signin/email", "email"),
    ("POST", "/signin/email", "next"),
    ("POST", "/signin/email/code", "code"),
    ("POST", "/account/passkeys/{pk}/rename", "name"),
    ("POST", "/account/email", "email"),
    ("POST", "/account/email/code", "code"),
    ("POST", "/interaction/abc/consent", "decision"),
    ("POST", "/device", "user_code"),
    ("POST", "/device", "decision"),
]


@FUZZ
@given(case=st.sampled_from(PAGE_FORMS), value=values)
async def test_hosted_forms(target, case, value):
    method, path, field = case
    pairs = [("csrf_token", target.csrf), (field, value)]
    url = path.format(pk=target.passkey_pk)
    await target.send(method, url, content=form_body(pairs), kind="form")


@FUZZ
@given(
    value=values,
    where=st.sampled_from(
        [
            "/signin?next={}",
            "/signin?interaction={}",
            "/signup?interaction={}",
            "/account?done={}",
            "/interaction/{}",
            "/signin/email/{}",
            "/email/confirm/{}",
            "/device?user_code={}",
        ]
    ),
)
async def test_hosted_pages_by_url(target, value, where):
    encoded = query([("v", value)])[2:]
    await target.send("GET", where.format(encoded))
    if where.startswith(("/signin/email/", "/interaction/", "/email/confirm/")):
        await target.send(
            "POST",
            where.format(encoded),
            content=form_body([("csrf_token", target.csrf)]),
            kind="form",
        )
    await target.send(
        "POST",
        f"/account/apps/{encoded}/revoke",
        content=form_body([("csrf_token", target.csrf)]),
        kind="form",
    )


API = "/api/passkeys/v1"
API_CALLS: list[tuple[str, str, Callable[[str], Any]]] = [
    ("POST", "/registration/initialize", lambda v: {"user_id": v, "username": "u"}),
    ("POST", "/registration/initialize", lambda v: {"user_id": "u", "username": v}),
    (
        "POST",
        "/registration/initialize",
        lambda v: {"user_id": "u", "username": "u", "display_name": v},
    ),
    ("POST", "/registration/finalize", lambda v: {"ceremony": v, "credential": {}}),
    ("POST", "/login/initialize", lambda v: {"user_id": v}),
    ("POST", "/login/finalize", lambda v: {"ceremony": "c", "credential": {"rawId": v}}),
    ("PATCH", "/credentials/AAAA", lambda v: {"name": v}),
]


@FUZZ
@given(case=st.sampled_from(API_CALLS), value=values)
async def test_passkey_api(target, case, value):
    method, path, body = case
    auth = {"Authorization": f"Bearer {target.api_key}"}
    await target.send(
        method, f"{API}{path}", content=json_body(body(value)), kind="json", headers=auth
    )
    encoded = query([("v", value)])[2:]
    for method, path in (
        ("GET", "/users/{}/credentials"),
        ("DELETE", "/users/{}/credentials"),
        ("PATCH", "/credentials/{}"),
        ("DELETE", "/credentials/{}"),
    ):
        await target.send(
            method,
            f"{API}{path.format(encoded)}",
            content=json_body({"name": "n"}),
            kind="json",
            headers=auth,
        )
    bad_key = value.encode("utf-8", "surrogatepass").decode("latin-1", "replace")
    if all(32 <= ord(ch) < 127 for ch in bad_key):
        await target.send(
            "POST",
            f"{API}/login/initialize",
            content=json_body({}),
            kind="json",
            headers={"Authorization": f"Bearer sk_{bad_key}"},
        )


ADMIN_CLIENT_FIELDS = [
    "name",
    "type",
    "redirect_uris",
    "post_logout_redirect_uris",
    "scopes",
    "grant_types",
    "id_token_signed_response_alg",
    "client_id",
    "allowed_origins",
    "backchannel_logout_uri",
]


@FUZZ
@given(field=st.sampled_from(ADMIN_CLIENT_FIELDS), value=values)
async def test_admin_api(target, field, value):
    auth = {"Authorization": f"Bearer {ADMIN}"}
    body: dict[str, Any] = {"name": "App", "redirect_uris": ["https://app.example/cb"]}
    body[field] = [value] if field.endswith("s") and field != "name" else value
    await target.send("POST", "/admin/clients", content=json_body(body), kind="json", headers=auth)
    encoded = query([("v", value)])[2:]
    await target.send("GET", f"/admin/clients/{encoded}", headers=auth)
    await target.send("DELETE", f"/admin/clients/{encoded}", headers=auth)
    await target.send(
        "POST",
        "/admin/tenants",
        content=json_body({"name": value, "rp_id": "a.example", "origins": ["https://a.example"]}),
        kind="json",
        headers=auth,
    )
    await target.send(
        "POST",
        "/admin/tenants",
        content=json_body({"name": "t", "rp_id": value, "origins": [value]}),
        kind="json",
        headers=auth,
    )
    for api in (
        {"name": value, "audience": "https://api.example", "scopes": ["read"]},
        {"name": "API", "audience": value, "scopes": [value]},
    ):
        await target.send("POST", "/admin/apis", content=json_body(api), kind="json", headers=auth)
    await target.send("GET", f"/admin/apis/{encoded}", headers=auth)
    await target.send("DELETE", f"/admin/apis/{encoded}", headers=auth)
    access = {
        "name": "App",
        "redirect_uris": ["https://app.example/cb"],
        "api_access": {value: [value]},
    }
    await target.send(
        "POST", "/admin/clients", content=json_body(access), kind="json", headers=auth
    )
    for change in ({"allowed_origins": [value]}, {"backchannel_logout_uri": value}):
        await target.send(
            "PATCH",
            f"/admin/clients/{target.rp.client_id}",
            content=json_body(change),
            kind="json",
            headers=auth,
        )
    await target.send("GET", f"/admin/events?user={encoded}&kind={encoded}", headers=auth)
    await target.send("POST", f"/admin/clients/{encoded}/rotate-secret", headers=auth)
    await target.send("POST", f"/admin/tenants/{encoded}/keys", headers=auth)
    await target.send("DELETE", f"/admin/tenants/{encoded}/keys/{encoded}", headers=auth)
    await target.send("DELETE", f"/admin/tenants/{encoded}", headers=auth)


REVOKE_FIELDS = ["token", "token_type_hint", "client_id"]
LOGOUT_FIELDS = ["id_token_hint", "post_logout_redirect_uri", "client_id", "state"]
PAGE_URLS = [
    "/signin?next={}",
    "/signin?interaction={}",
    "/interaction/{}",
    "/signin/email/{}",
    "/device?user_code={}",
]
GRANT_TYPES = [
    "authorization_code",
    "refresh_token",
    "urn:ietf:params:oauth:grant-type:device_code",
]
CORPUS: dict[str, tuple[Any, list[dict[str, Any]]]] = {
    "authorize": (
        test_authorize,
        [{"field": f, "method": m} for f in AUTHORIZE_FIELDS for m in ("GET", "POST")],
    ),
    "token": (test_token, [{"field": f, "grant": g} for f in TOKEN_FIELDS for g in GRANT_TYPES]),
    "revoke": (
        test_revoke_introspect_userinfo,
        [
            {"field": f, "path": p}
            for f in [*REVOKE_FIELDS, "scope"]
            for p in ("/revoke", "/introspect", "/device_authorization")
        ],
    ),
    "logout": (test_logout, [{"field": f} for f in LOGOUT_FIELDS]),
    "ceremonies": (test_ceremonies, [{"case": c} for c in CEREMONY_BODIES]),
    "forms": (test_hosted_forms, [{"case": c} for c in PAGE_FORMS]),
    "pages": (test_hosted_pages_by_url, [{"where": w} for w in PAGE_URLS]),
    "passkey-api": (test_passkey_api, [{"case": c} for c in API_CALLS]),
    "admin-api": (test_admin_api, [{"field": f} for f in ADMIN_CLIENT_FIELDS]),
}


@pytest.mark.parametrize("name", list(CORPUS))
async def test_every_input_with_every_nasty_value(target, name):
    """Hypothesis above explores; this makes sure each input met each known-bad value."""
    fuzzed, combos = CORPUS[name]
    for combo in combos:
        for value in NASTY:
            await fuzzed.hypothesis.inner_test(target, value=value, **combo)
    assert target.calls and all(status < 500 for _, _, status in target.calls)


async def test_the_red_team_requests_get_their_protocols_error(target):
    """The requests named in the finding, each with the answer its endpoint owes."""
    params = target.rp.authorize_params(target.rp.new_flow()) | {"client_id": "a\x00b"}
    page = await target.send("GET", f"/authorize?{query(list(params.items()))}")
    assert page.status_code == 400 and page.headers["content-type"].startswith("text/html")
    assert "control character" in page.text
    posted = await target.send(
        "POST", "/authorize", content=form_body(list(params.items())), kind="form"
    )
    assert posted.status_code == 400 and posted.headers["content-type"].startswith("text/html")
    token = await target.send(
        "POST",
        "/token",
        content=form_body([("grant_type", "client_credentials")]),
        kind="form",
        headers={"Authorization": basic("a\x00b", "secret")},
    )
    assert token.status_code == 400 and token.json()["error"] == "invalid_request"
    assert token.headers["cache-control"] == "no-store"
    escaped = await target.send(
        "POST",
        "/token",
        content=form_body([("grant_type", "client_credentials")]),
        kind="form",
        headers={"Authorization": basic("%ff", "secret")},
    )
    assert escaped.status_code == 400 and escaped.json()["error"] == "invalid_request"
    form = await target.send(
        "POST", "/token", content=form_body([("grant_type", "x" * 9000)]), kind="form"
    )
    assert form.status_code == 400 and form.json()["error"] == "invalid_request"
    admin = await target.send(
        "POST",
        "/admin/clients",
        content=json_body({"name": "App", "redirect_uris": ["https://[::1"]}),
        kind="json",
        headers={"Authorization": f"Bearer {ADMIN}"},
    )
    assert admin.status_code == 400 and admin.json()["error"] == "invalid_client_metadata"
    renamed = await target.send(
        "POST",
        f"/account/passkeys/{target.passkey_pk}/rename",
        content=form_body([("csrf_token", target.csrf), ("name", "x" * 150)]),
        kind="form",
    )
    assert renamed.status_code in (303, 400)
