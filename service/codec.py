"""How values travel in text: base64url without padding (RFC 4648 section 5, as JOSE, WebAuthn
and PKCE use it: RFC 7515 2, WebAuthn L3 5.10, RFC 7636 4.2), and the Bearer credential of an
``Authorization`` header (RFC 6750 section 2.1). One copy of each, for every layer."""

from __future__ import annotations

import base64
import re

_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def b64url_encode(value: bytes) -> str:
    return base64.urlsafe_b64encode(value).rstrip(b"=").decode()


def b64url_decode(value: str) -> bytes:
    """Padding optional; raises ``ValueError`` for anything that is not base64url (the standard
    alphabet's ``+`` and ``/`` included: a value in another encoding is refused, not guessed)."""
    bare = value.rstrip("=")
    if not _B64URL.fullmatch(bare) or len(bare) % 4 == 1:
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(bare + "=" * (-len(bare) % 4))


def bearer_credential(authorization: str | None) -> str | None:
    """The token of ``Authorization: Bearer <token>`` (scheme case-insensitive, RFC 9110 11.1),
    or None when the header is absent, empty or of another scheme."""
    header = authorization or ""
    if header[:7].lower() != "bearer ":
        return None
    return header[7:].strip() or None
