"""Client registration and redirect-URI rules (RFC 9700 4.1, RFC 8252 7.3), as pure functions."""

from __future__ import annotations

import pytest

from service.oidc.clients import (
    ClientRejected,
    ClientSpec,
    _check,
    redirect_uri_matches,
    redirect_uri_problem,
)


@pytest.mark.parametrize(
    "uri",
    [
        "https://app.example/cb",
        "https://app.example/cb?tenant=1",
        "http://localhost:3000/cb",
        "http://127.0.0.1/cb",
        "http://[::1]:8080/cb",
    ],
)
def test_acceptable_redirect_uris(uri):
    assert redirect_uri_problem(uri) is None


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("http://app.example/cb", "loopback"),
        ("https://*.app.example/cb", "wildcards"),
        ("https://app.example/cb#x", "fragment"),
        ("https://good@evil.example/cb", "userinfo"),
        ("javascript:alert(1)", "https"),
        ("data:text/html,hi", "https"),
        ("/relative", "https"),
        ("https:///nohost", "host"),
        ("https://app.example/a b", "spaces"),
    ],
)
def test_refused_redirect_uris(uri, reason):
    problem = redirect_uri_problem(uri)
    assert problem is not None and reason in problem


@pytest.mark.parametrize(
    "uri",
    ["com.example.app:/oauth2redirect", "com.example.app://callback", "io.sesame-id.cli:/done"],
)
def test_native_apps_may_use_private_use_schemes(uri):
    """RFC 8252 7.1: reverse domain name schemes, for public clients only."""
    assert redirect_uri_problem(uri, public=True) is None
    assert "public (native) clients only" in (redirect_uri_problem(uri) or "")


@pytest.mark.parametrize(
    "uri",
    [
        "myapp:/callback",  # not a reverse domain name
        "javascript:alert(1)",
        "data:text/html,hi",
        "file:///etc/passwd",
        "com.example.app:/cb#frag",
        "com..example:/cb",
    ],
)
def test_refused_native_redirects(uri):
    assert redirect_uri_problem(uri, public=True) is not None


def test_redirect_uris_match_as_exact_strings():
    registered = ["https://app.example/cb", "http://127.0.0.1/native"]
    assert redirect_uri_matches(registered, "https://app.example/cb")
    for given in (
        "https://app.example/cb/",
        "https://APP.example/cb",
        "https://app.example/c%62",
        "https://app.example/cb?",
        "https://app.example:443/cb",
        "https://app.example.evil.example/cb",
    ):
        assert not redirect_uri_matches(registered, given), given
    # RFC 8252 7.3: only a loopback IP literal's port may vary.
    assert redirect_uri_matches(registered, "http://127.0.0.1:61234/native")
    assert not redirect_uri_matches(registered, "http://127.0.0.1:61234/other")
    assert not redirect_uri_matches(registered, "http://user@127.0.0.1:61234/native")
    assert not redirect_uri_matches(["http://localhost/cb"], "http://localhost:9/cb")


@pytest.mark.parametrize(
    "change",
    [
        {"id_token_alg": "none"},
        {"id_token_alg": "HS256"},
        {"scopes": ["profile"]},
        {"grant_types": ["password"]},
        {"grant_types": ["implicit"]},
        {"type": "public", "grant_types": ["client_credentials"]},
        {"redirect_uris": []},
        {"name": ""},
        {"client_id": "has space"},
    ],
)
def test_registration_rules(change):
    values = {"name": "App", "redirect_uris": ["https://app.example/cb"], **change}
    with pytest.raises(ClientRejected):
        _check(ClientSpec(**values))
