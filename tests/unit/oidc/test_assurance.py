"""The high-assurance rules that need no server: access levels, DPoP's URL comparison and
thumbprints, the registration rules of the fapi2 profile, and what discovery says of them."""

from __future__ import annotations

import pytest

from service.oidc.assurance import acr, dpop, profile
from service.oidc.assurance.profile import Assurance
from service.oidc.assurance.signed import ASYMMETRIC, FAPI_ALGORITHMS
from service.oidc.discovery import provider_metadata
from service.settings import Settings
from tests.holder import KeyHolder


def test_access_levels():
    assert acr.acr_of(("passkey",)) == "phr" and acr.acr_of(("email",)) == "email"
    assert acr.acr_of(("email", "passkey")) == "phr"  # an email session confirmed by passkey
    assert acr.satisfied((), ("email",))
    assert not acr.satisfied(("phr",), ("email",))
    assert acr.satisfied(("phr", "email"), ("email",))  # the lowest level asked for counts
    assert acr.needs_passkey(("phr",)) and not acr.needs_passkey(("email", "phr"))
    assert acr.chosen(("email",), ("passkey",)) == "email"
    assert acr.chosen(("phr", "email"), ("passkey",)) == "phr"
    assert acr.chosen((), ("email",)) == "email"


def test_dpop_urls_and_thumbprints():
    assert dpop._bare("HTTPS://ID.Example.com/token?x=1#f") == "https://id.example.com/token"
    assert dpop._bare("https://id.example.com/Token") != dpop._bare("https://id.example.com/token")
    holder = KeyHolder()
    assert dpop.thumbprint_ok(holder.thumbprint)
    assert not dpop.thumbprint_ok("short") and not dpop.thumbprint_ok("!" * 43)


def test_fapi2_registration_rules():
    holder = KeyHolder()
    made = profile.columns(Assurance(profile="fapi2", jwks=holder.jwks), "confidential", "ES256")
    assert made["auth_method"] == "private_key_jwt" and made["dpop_bound"] is True
    assert not profile.has_secret("confidential", made["auth_method"])
    refusals = [
        (Assurance(profile="fapi2", jwks=holder.jwks), "public", "ES256"),
        (Assurance(profile="fapi2", jwks=holder.jwks), "confidential", "RS256"),
        (Assurance(profile="fapi2"), "confidential", "ES256"),
        (
            Assurance(profile="fapi2", auth_method="client_secret_basic", jwks=holder.jwks),
            "confidential",
            "ES256",
        ),
        (Assurance(profile="fapi1"), "confidential", "ES256"),
        (Assurance(auth_method="none"), "confidential", "RS256"),
        (Assurance(auth_method="client_secret_post"), "public", "RS256"),
        (Assurance(jwks={"keys": []}), "confidential", "RS256"),
        (Assurance(jwks="not json"), "confidential", "RS256"),
    ]
    for assurance, client_type, alg in refusals:
        with pytest.raises(ValueError):
            profile.columns(assurance, client_type, alg)


def test_discovery_advertises_what_is_built():
    meta = provider_metadata(Settings(issuer="https://id.example.com", secret_key="s" * 40))
    assert "private_key_jwt" in meta["token_endpoint_auth_methods_supported"]
    assert "client_secret_jwt" not in meta["token_endpoint_auth_methods_supported"]
    for key in (
        "token_endpoint_auth_signing_alg_values_supported",
        "dpop_signing_alg_values_supported",
        "request_object_signing_alg_values_supported",
    ):
        assert meta[key] == list(ASYMMETRIC)
        assert not {"none", "HS256"} & set(meta[key])
    assert set(FAPI_ALGORITHMS) <= set(ASYMMETRIC) and "RS256" not in FAPI_ALGORITHMS
    assert meta["acr_values_supported"] == ["phr", "email"]
    assert meta["pushed_authorization_request_endpoint"] == "https://id.example.com/par"
    assert meta["request_parameter_supported"] is True
    assert meta["request_uri_parameter_supported"] is False
    assert meta["authorization_response_iss_parameter_supported"] is True
    assert "tls_client_certificate_bound_access_tokens" not in meta  # no mTLS
