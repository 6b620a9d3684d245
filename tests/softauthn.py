"""A software WebAuthn authenticator with real keys, for tests below the browser.

It builds registration and assertion responses exactly as a browser would serialize them
(``PublicKeyCredential.toJSON``), and lets a test bend one field at a time: origin, RP ID,
challenge, flags, counter, cross-origin, user handle. Browser tests use Chromium's virtual
authenticator instead.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


@dataclass
class Passkey:
    credential_id: bytes
    key: ec.EllipticCurvePrivateKey
    user_handle: bytes
    rp_id: str
    sign_count: int = 0
    curve_alg: int = -7


@dataclass
class SoftAuthenticator:
    origin: str = "http://localhost:8000"
    backup_eligible: bool = False
    backed_up: bool = False
    count_signatures: bool = False  # synced passkeys report 0 forever
    aaguid: bytes = b"\x00" * 16
    passkeys: list[Passkey] = field(default_factory=list)

    def _flags(self, *, up: bool, uv: bool, be: bool | None, bs: bool | None, at: bool) -> int:
        flags = (UP if up else 0) | (UV if uv else 0) | (AT if at else 0)
        flags |= BE if (self.backup_eligible if be is None else be) else 0
        flags |= BS if (self.backed_up if bs is None else bs) else 0
        return flags

    def create(
        self,
        options: dict[str, Any],
        *,
        origin: str | None = None,
        rp_id: str | None = None,
        challenge: str | None = None,
        up: bool = True,
        uv: bool = True,
        be: bool | None = None,
        bs: bool | None = None,
        cross_origin: Any = False,
        credential_id: bytes | None = None,
        curve: ec.EllipticCurve | None = None,
        ctype: str = "webauthn.create",
        cose_key: dict[int, Any] | None = None,
        cose_alg: int | None = None,
    ) -> dict[str, Any]:
        """navigator.credentials.create() answering ``options`` (the server's publicKey JSON).
        ``cose_key`` replaces the public key sent (see :func:`cose_key_of`); ``cose_alg``
        relabels its algorithm, so a test can send a key that says one thing and is another."""
        rp_id = rp_id or options["rp"]["id"]
        curve = curve or ec.SECP256R1()
        key = ec.generate_private_key(curve)
        alg, crv = {"secp256r1": (-7, 1), "secp384r1": (-35, 2)}[curve.name]
        cred_id = credential_id or secrets.token_bytes(32)
        numbers = key.public_key().public_numbers()
        size = (curve.key_size + 7) // 8
        fields = cose_key or {
            1: 2,
            3: alg,
            -1: crv,
            -2: numbers.x.to_bytes(size, "big"),
            -3: numbers.y.to_bytes(size, "big"),
        }
        if cose_alg is not None:
            fields = {**fields, 3: cose_alg}
        cose = cbor2.dumps(fields)
        flags = self._flags(up=up, uv=uv, be=be, bs=bs, at=True)
        auth_data = (
            hashlib.sha256(rp_id.encode()).digest()
            + bytes([flags])
            + struct.pack(">I", 0)
            + self.aaguid
            + struct.pack(">H", len(cred_id))
            + cred_id
            + cose
        )
        client_data = self._client_data(
            ctype, challenge or options["challenge"], origin, cross_origin
        )
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        self.passkeys.append(
            Passkey(cred_id, key, unb64u(options["user"]["id"]), rp_id, curve_alg=alg)
        )
        return {
            "id": b64u(cred_id),
            "rawId": b64u(cred_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64u(client_data),
                "attestationObject": b64u(attestation),
                "transports": ["internal"],
            },
        }

    def get(
        self,
        options: dict[str, Any],
        *,
        passkey: Passkey | None = None,
        origin: str | None = None,
        rp_id: str | None = None,
        challenge: str | None = None,
        up: bool = True,
        uv: bool = True,
        be: bool | None = None,
        bs: bool | None = None,
        cross_origin: Any = False,
        user_handle: bytes | bool | None = True,
        sign_count: int | None = None,
        ctype: str = "webauthn.get",
    ) -> dict[str, Any]:
        """navigator.credentials.get(): signs with ``passkey`` (default: the newest one)."""
        passkey = passkey or self.passkeys[-1]
        if sign_count is None:
            if self.count_signatures:
                passkey.sign_count += 1
            sign_count = passkey.sign_count
        flags = self._flags(up=up, uv=uv, be=be, bs=bs, at=False)
        auth_data = (
            hashlib.sha256((rp_id or passkey.rp_id).encode()).digest()
            + bytes([flags])
            + struct.pack(">I", sign_count)
        )
        client_data = self._client_data(
            ctype, challenge or options["challenge"], origin, cross_origin
        )
        signature = passkey.key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        handle = passkey.user_handle if user_handle is True else user_handle or None
        return {
            "id": b64u(passkey.credential_id),
            "rawId": b64u(passkey.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64u(client_data),
                "authenticatorData": b64u(auth_data),
                "signature": b64u(signature),
                "userHandle": b64u(handle) if handle else None,
            },
        }

    def _client_data(
        self, ctype: str, challenge: str, origin: str | None, cross_origin: Any
    ) -> bytes:
        data: dict[str, Any] = {
            "type": ctype,
            "challenge": challenge,
            "origin": origin or self.origin,
        }
        if cross_origin is True:
            data["crossOrigin"] = True
            data["topOrigin"] = "https://evil.example"
        elif cross_origin is not False:
            data["crossOrigin"] = cross_origin  # not a boolean: "true", 1, null...
        return json.dumps(data).encode()


def cose_key_of(kind: str) -> dict[int, Any]:
    """COSE public keys of other kinds, for registration tests (RFC 9053 7, RFC 8230 4)."""
    from cryptography.hazmat.primitives.asymmetric import ed448, ed25519, rsa
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    if kind.startswith("rsa"):
        numbers = rsa.generate_private_key(65537, int(kind[3:])).public_key().public_numbers()
        n = numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")
        return {1: 3, 3: -257, -1: n, -2: numbers.e.to_bytes(3, "big")}
    if kind in {"ed25519", "ed448"}:
        module = ed25519.Ed25519PrivateKey if kind == "ed25519" else ed448.Ed448PrivateKey
        raw = module.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return {1: 1, 3: -8, -1: 6 if kind == "ed25519" else 7, -2: raw}
    raise ValueError(kind)
