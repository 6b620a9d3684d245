"""Email addresses: the accepted shape and the canonical form that uniqueness, lookups and rate
limits use (so "Ada@Example.com " and "ada@example.com" are one address).

The shape is email-validator's (RFC 5321/5322 syntax, domain rules such as no empty label and no
leading hyphen, IDNA 2008 for international domains, no special-use domains), without DNS
lookups: whether mail arrives is proven by the link or code Sesame sends.
"""

from __future__ import annotations

import contextlib

from email_validator import EmailNotValidError, ValidatedEmail, validate_email

MAX_EMAIL = 254  # RFC 5321 4.5.3.1.3, as a path less its angle brackets
MAX_LOCAL_PART = 64  # RFC 5321 4.5.3.1.1 (octets); email-validator leaves this to the caller


def _validated(email: str) -> ValidatedEmail | None:
    email = email.strip()
    if len(email) > MAX_EMAIL:
        return None
    try:
        valid = validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        return None
    return valid if len(valid.local_part.encode()) <= MAX_LOCAL_PART else None


def is_valid_email(email: str) -> bool:
    return _validated(email) is not None


def normalize_email(email: str) -> str:
    """Lower-cased, with an IDNA (punycode) domain: the form the uniqueness index compares.
    Lookups may pass text that is not a valid address; it is lower-cased all the same."""
    valid = _validated(email)
    if valid is not None:
        return f"{valid.local_part}@{valid.ascii_domain}".lower()
    local, _, domain = email.strip().rpartition("@")
    with contextlib.suppress(UnicodeError):
        domain = domain.encode("idna").decode("ascii")
    return f"{local}@{domain}".lower()
