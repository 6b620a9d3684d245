"""The protocol's registries are the one source every surface reads: grant types
(``service.oidc.grants``), client authentication methods (``service.oidc.client_auth``) and the
authorization-request checks (``service.oidc.checks``)."""

from __future__ import annotations

import inspect

import pytest

from service.cli import main
from service.oidc import checks
from service.oidc.client_auth import AUTH_METHODS, PROVING_METHODS, Credentials, method_of
from service.oidc.clients import ClientRejected, ClientSpec, _check
from service.oidc.discovery import provider_metadata
from service.oidc.errors import InvalidRequest
from service.oidc.grants import ALIASES, DEFAULT_GRANT_TYPES, GRANTS
from service.settings import Settings


def test_discovery_advertises_the_registries():
    meta = provider_metadata(Settings(issuer="https://id.example.com", secret_key="s" * 40))
    assert meta["grant_types_supported"] == list(GRANTS)
    assert meta["token_endpoint_auth_methods_supported"] == list(AUTH_METHODS)
    assert meta["introspection_endpoint_auth_methods_supported"] == list(PROVING_METHODS)
    assert "none" not in PROVING_METHODS
    assert meta["prompt_values_supported"] == sorted(checks.PROMPTS)


def test_each_grant_names_itself_and_its_parameters():
    for name, grant in GRANTS.items():
        assert grant.name == name
        assert inspect.iscoroutinefunction(grant.handler)
        assert "grant_type" not in grant.parameters
    assert ClientSpec(name="App", redirect_uris=[]).grant_types == list(DEFAULT_GRANT_TYPES)


def test_registration_validates_against_the_registry():
    base = {"name": "App", "redirect_uris": ["https://app.example/cb"]}
    for name in GRANTS:
        if name == "refresh_token":
            continue
        _check(ClientSpec(**base, grant_types=[name]))  # every registered grant is accepted
    with pytest.raises(ClientRejected, match="a subset of authorization_code"):
        _check(ClientSpec(**base, grant_types=["urn:example:unknown"]))
    # Each grant's own registration rule runs.
    with pytest.raises(ClientRejected, match="comes with authorization_code"):
        _check(ClientSpec(**base, grant_types=["refresh_token"]))


def test_the_cli_offers_the_registered_grants(capsys):
    with pytest.raises(SystemExit):
        main(["clients", "create", "--help"])
    offered = capsys.readouterr().out
    assert "{" + ",".join([*GRANTS, *ALIASES]) + "}" in offered


@pytest.mark.parametrize(
    ("creds", "method"),
    [
        (Credentials("Basic YTpi", None, None), "client_secret_basic"),
        (Credentials(None, "a", "b"), "client_secret_post"),
        (Credentials(None, "a", None), "none"),
        (Credentials("Bearer x", "a", None), "none"),
    ],
)
def test_a_request_uses_one_method(creds, method):
    assert method_of(creds).name == method


def test_two_methods_at_once_are_refused():
    with pytest.raises(InvalidRequest, match="one client authentication method"):
        method_of(Credentials("Basic YTpi", "a", "b"))


def test_checks_run_client_first_and_each_cites_its_rule():
    assert checks.CHECKS[:2] == (checks.client.check_client, checks.client.check_redirect_uri)
    assert len(set(checks.CHECKS)) == len(checks.CHECKS)
    for check in checks.CHECKS:
        module = inspect.getmodule(check)
        assert module is not None and module.__doc__
        assert any(ref in module.__doc__ for ref in ("RFC", "OIDC", "OAuth")), module.__name__
