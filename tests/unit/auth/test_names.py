"""Default passkey names (``service.auth.names``)."""

from __future__ import annotations

from service.auth.names import browser_label, default_passkey_name


def test_default_passkey_names():
    assert default_passkey_name("fbfc3007-154e-4ecc-8c0b-6e020557d7bd", "") == "Apple Passwords"
    ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/156.0 Safari/537.36"
    assert browser_label(ua) == "Chrome on Linux"
    assert default_passkey_name("00000000-0000-0000-0000-000000000000", ua) == (
        "Passkey (Chrome on Linux)"
    )
