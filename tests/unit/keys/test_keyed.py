"""Keyed hashes, signed values and CSRF tokens (``service.keys.keyed``)."""

from __future__ import annotations

from service.keys.keyed import Keyring


def test_keyring_sign_unsign_and_csrf():
    keys = Keyring(b"k" * 32)
    signed = keys.sign("purpose", "value")
    assert keys.unsign("purpose", signed) == "value"
    assert keys.unsign("other", signed) is None
    assert keys.unsign("purpose", signed[:-1] + "x") is None
    assert keys.check_csrf("browser", keys.csrf_token("browser"))
    assert not keys.check_csrf("browser", keys.csrf_token("another"))
    assert not keys.check_csrf("browser", "")
    assert Keyring(b"j" * 32).hash("p", "v") != keys.hash("p", "v")
