"""PKCE rules (RFC 7636; ``service.oidc.pkce``)."""

from __future__ import annotations

import pytest

from service.oidc.errors import InvalidGrant, InvalidRequest
from service.oidc.pkce import check_challenge, check_verifier


def test_pkce_rules():
    challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    assert check_challenge(challenge, "S256", required=True) == challenge
    assert check_challenge(None, None, required=False) is None
    for args in ((challenge, "plain"), (challenge, None), (None, "S256"), ("x" * 42, "S256")):
        with pytest.raises(InvalidRequest):
            check_challenge(*args, required=False)
    with pytest.raises(InvalidRequest):
        check_challenge(None, None, required=True)
    # RFC 7636 appendix B's example pair.
    check_verifier(challenge, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
    for verifier in (None, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXj", "short"):
        with pytest.raises(InvalidGrant):
            check_verifier(challenge, verifier)
    with pytest.raises(InvalidGrant):
        check_verifier(None, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
