"""Random tokens, keyed hashes and signed cookie values, all derived from the server key.

Bearer secrets (session ids, browser ids) are stored only as HMAC-SHA256 under a purpose label,
so a database or Redis dump does not hand out live sessions.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from service.codec import b64url_encode


def new_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


class Keyring:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _mac(self, purpose: str, data: bytes) -> bytes:
        return hmac.new(self._secret, purpose.encode() + b"\x00" + data, hashlib.sha256).digest()

    def derive(self, purpose: str) -> bytes:
        """A 32-byte key for one purpose (e.g. encrypting stored private keys)."""
        return self._mac(purpose, b"")

    def hash(self, purpose: str, value: str) -> bytes:
        return self._mac(purpose, value.encode())

    def hash_hex(self, purpose: str, value: str) -> str:
        return self.hash(purpose, value).hex()

    def sign(self, purpose: str, value: str) -> str:
        mac = b64url_encode(self._mac(purpose, value.encode()))
        return f"{value}.{mac}"

    def unsign(self, purpose: str, signed: str) -> str | None:
        value, _, _mac = signed.rpartition(".")
        if not value:
            return None
        return value if hmac.compare_digest(self.sign(purpose, value), signed) else None

    def csrf_token(self, browser_id: str) -> str:
        """Bound to the browser id cookie (HttpOnly), which a cross-site page cannot read."""
        mac = self._mac("csrf", browser_id.encode())
        return b64url_encode(mac)

    def check_csrf(self, browser_id: str, token: str) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf_token(browser_id), token)
