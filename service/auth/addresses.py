"""Email addresses: the accepted shape and the canonical form that uniqueness, lookups and rate
limits use (so "Ada@Example.com " and "ada@example.com" are one address)."""

from __future__ import annotations

import contextlib
import re

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


def is_valid_email(email: str) -> bool:
    email = email.strip()
    return len(email) <= 254 and EMAIL_RE.match(email) is not None


def normalize_email(email: str) -> str:
    """Lower-cased, with an IDNA (punycode) domain: the form the uniqueness index compares."""
    local, _, domain = email.strip().rpartition("@")
    with contextlib.suppress(UnicodeError):
        domain = domain.encode("idna").decode("ascii")
    return f"{local}@{domain}".lower()
