"""Authenticated encryption for secrets at rest (AES-256-GCM under a key derived from the
server key): signing keys' private parts, queued emails that carry sign-in links."""

from __future__ import annotations

import secrets

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class Sealer:
    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key[:32])

    def seal(self, plain: bytes, context: bytes) -> bytes:
        """``context`` (not secret) is bound to the ciphertext: a sealed value moved to
        another row does not open."""
        nonce = secrets.token_bytes(12)
        return nonce + self._aead.encrypt(nonce, plain, context)

    def open(self, sealed: bytes, context: bytes) -> bytes:
        return self._aead.decrypt(sealed[:12], sealed[12:], context)
