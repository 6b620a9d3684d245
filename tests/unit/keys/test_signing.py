"""The compact signer writes the JWS itself (service.keys.signing.CompactSigner): every
algorithm's tokens must verify with an independent JOSE implementation (joserfc), carry the
header asked for, and fail once a byte of the payload changes."""

from __future__ import annotations

import pytest
from joserfc import jwt
from joserfc.errors import BadSignatureError

from service.keys.signing import ALGORITHMS, CompactSigner, _generate


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_tokens_verify_with_joserfc(alg):
    key = _generate(alg, f"kid-{alg}")
    claims = {"sub": "ada", "name": "Ada Lovelace \u00e9\u4e2d", "n": 1, "amr": ["hwk"]}
    token = CompactSigner(key, alg, f"kid-{alg}").sign(claims, "at+jwt")
    decoded = jwt.decode(token, key, algorithms=[alg])
    assert decoded.claims == claims
    assert decoded.header == {"alg": alg, "kid": f"kid-{alg}", "typ": "at+jwt"}


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_a_changed_payload_does_not_verify(alg):
    key = _generate(alg, "k")
    header, payload, signature = CompactSigner(key, alg, "k").sign({"sub": "a"}, "JWT").split(".")
    other = CompactSigner(key, alg, "k").sign({"sub": "b"}, "JWT").split(".")[1]
    with pytest.raises(BadSignatureError):
        jwt.decode(f"{header}.{other}.{signature}", key, algorithms=[alg])
    assert payload != other
