"""Email addresses: the accepted shape and the canonical form (``service.auth.addresses``)."""

from __future__ import annotations

import pytest

from service.auth.addresses import is_valid_email, normalize_email


def test_email_normalization():
    assert normalize_email("  Ada@Example.COM ") == "ada@example.com"
    assert normalize_email("x@bücher.de") == "x@xn--bcher-kva.de"


@pytest.mark.parametrize(
    "address", ["ada@example.com", " Ada@Example.COM ", "x@bücher.de", "a.b+tag@sub.example.org"]
)
def test_acceptable_addresses(address):
    assert is_valid_email(address)


@pytest.mark.parametrize(
    "address",
    [
        "a@b..c",  # an empty domain label
        "a@-b.c",  # a label may not start with a hyphen
        "a@b",  # no dot: not a public domain
        "a@foo.test",  # a special-use domain (RFC 6761)
        "a..b@example.com",
        "@example.com",
        "ada@",
        "a b@example.com",
        "x" * 65 + "@example.com",  # local part over 64 octets
        "a@" + "b" * 250 + ".com",  # over 254 characters
    ],
)
def test_refused_addresses(address):
    assert not is_valid_email(address)
