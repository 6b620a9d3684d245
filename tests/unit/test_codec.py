"""base64url and the Bearer credential (``service.codec``)."""

from __future__ import annotations

import pytest

from service.codec import b64url_decode, b64url_encode, bearer_credential


def test_base64url_has_no_padding_and_round_trips():
    for raw in (b"", b"\x00", b"\xfb\xff", b"any carnal pleas", bytes(range(256))):
        text = b64url_encode(raw)
        assert "=" not in text and "+" not in text and "/" not in text
        assert b64url_decode(text) == raw
    # RFC 7636 appendix B: the SHA-256 of the verifier, as PKCE writes it.
    assert (
        b64url_encode(
            bytes.fromhex("13d31e961a1ad8ec2f16b10c4c982e0876a878ad6df144566ee1894acb70f9c3")
        )
        == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )


@pytest.mark.parametrize("bad", ["a", "ab$d", "ab/c", "ab+c", "a=b", "abcde"])
def test_base64url_refuses_what_it_is_not(bad):
    with pytest.raises(ValueError):
        b64url_decode(bad)


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc", "abc"),
        ("bearer abc ", "abc"),
        ("BEARER  abc", "abc"),
        ("Bearer ", None),
        ("Basic abc", None),
        ("Bearerabc", None),
        ("", None),
        (None, None),
    ],
)
def test_bearer_credential(header, token):
    assert bearer_credential(header) == token
