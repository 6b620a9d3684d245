"""WebAuthn response verification (WebAuthn L3 7.1 registration, 7.2 authentication).

py_webauthn does the cryptographic core; this module adds the rules Sesame enforces on top and
turns every library exception into :class:`InvalidPasskeyResponse` at the first place it can
appear. The checks run in the spec's order and exit early.
"""

from __future__ import annotations

import binascii
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from webauthn import verify_authentication_response, verify_registration_response
from webauthn.helpers import decode_credential_public_key, decoded_public_key_to_cryptography
from webauthn.helpers.cose import COSECRV, COSEKTY, COSEAlgorithmIdentifier
from webauthn.helpers.decode_credential_public_key import (
    DecodedEC2PublicKey,
    DecodedOKPPublicKey,
    DecodedRSAPublicKey,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import CredentialDeviceType

from service.auth.errors import InvalidPasskeyResponse, UnknownPasskey
from service.codec import b64url_decode
from service.db.models import MAX_CREDENTIAL_ID_BYTES, PasskeyCredential
from service.settings import Settings

log = logging.getLogger(__name__)

# The algorithms offered in pubKeyCredParams; anything else is refused at registration.
SUPPORTED_ALGORITHMS = [
    COSEAlgorithmIdentifier.ECDSA_SHA_256,
    COSEAlgorithmIdentifier.EDDSA,
    COSEAlgorithmIdentifier.RSASSA_PKCS1_v1_5_SHA_256,
]
_LIBRARY_ERRORS = (WebAuthnException, ValueError, TypeError, KeyError, binascii.Error)
MIN_RSA_BITS = 2048


@dataclass(frozen=True)
class RegisteredPasskey:
    credential_id: bytes
    public_key: bytes
    sign_count: int
    aaguid: str
    backup_eligible: bool
    backup_state: bool
    transports: list[str]

    def as_row(self, *, user_id: int, name: str, created_at: datetime) -> PasskeyCredential:
        return PasskeyCredential(
            user_id=user_id,
            credential_id=self.credential_id,
            public_key=self.public_key,
            sign_count=self.sign_count,
            transports=",".join(self.transports),
            aaguid=self.aaguid,
            backup_eligible=self.backup_eligible,
            backup_state=self.backup_state,
            name=name,
            created_at=created_at,
        )


@dataclass(frozen=True)
class Assertion:
    credential_id: bytes
    user_handle: bytes | None
    new_sign_count: int
    backup_eligible: bool
    backup_state: bool


def credential_id_of(credential: Any) -> bytes:
    """The raw credential id a response names, before anything is verified."""
    if not isinstance(credential, dict) or not isinstance(credential.get("rawId"), str):
        raise InvalidPasskeyResponse(detail="credential JSON without rawId")
    try:
        raw = b64url_decode(credential["rawId"])
    except _LIBRARY_ERRORS as exc:
        raise InvalidPasskeyResponse(detail="rawId is not base64url") from exc
    if not raw or len(raw) > MAX_CREDENTIAL_ID_BYTES:
        raise InvalidPasskeyResponse(detail="credential id empty or longer than 1023 bytes")
    return raw


def user_handle_of(credential: dict[str, Any]) -> bytes | None:
    handle = (credential.get("response") or {}).get("userHandle")
    if not handle:
        return None
    try:
        return b64url_decode(handle)
    except _LIBRARY_ERRORS as exc:
        raise InvalidPasskeyResponse(detail="userHandle is not base64url") from exc


def _check_not_cross_origin(credential: dict[str, Any]) -> None:
    """WebAuthn L3 7.1 step 11 / 7.2 step 15: refuse responses made inside a cross-origin iframe."""
    try:
        client_data = json.loads(b64url_decode(credential["response"]["clientDataJSON"]))
    except (*_LIBRARY_ERRORS, json.JSONDecodeError) as exc:
        raise InvalidPasskeyResponse(detail="clientDataJSON unreadable") from exc
    if not isinstance(client_data, dict):
        raise InvalidPasskeyResponse(detail="clientDataJSON not an object")
    # Only an absent member or the JSON boolean false is a same-origin ceremony: a string
    # "true", a 1 or a null is not a boolean, and a client that sends one is not to be trusted
    # with the difference (WebAuthn L3 5.8.1: crossOrigin is a boolean).
    if client_data.get("crossOrigin", False) is not False or "topOrigin" in client_data:
        raise InvalidPasskeyResponse(detail="cross-origin ceremony")


@dataclass(frozen=True)
class RelyingParty:
    """Whose passkeys these are: Sesame's own (from settings), or an app's (a tenant of the
    passkey API), with its own RP ID and origins."""

    id: str
    name: str
    origins: list[str]
    timeout_seconds: int

    @classmethod
    def of(cls, settings: Settings) -> RelyingParty:
        return cls(
            settings.rp_id,
            settings.rp_name,
            settings.allowed_origins,
            settings.ceremony_timeout_seconds,
        )


class StoredPasskey(Protocol):
    public_key: bytes
    backup_eligible: bool


def verify_registration(rp: RelyingParty, credential: Any, challenge: bytes) -> RegisteredPasskey:
    """WebAuthn L3 7.1: a new credential, user verified, one of our algorithms, attestation none."""
    credential_id_of(credential)
    _check_not_cross_origin(credential)
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origins,
            require_user_presence=True,
            # Step 15: the passkey is the only factor, so the user must have been verified.
            require_user_verification=True,
            supported_pub_key_algs=SUPPORTED_ALGORITHMS,
        )
    except _LIBRARY_ERRORS as exc:
        raise InvalidPasskeyResponse(detail=f"registration: {exc}") from exc
    if len(verified.credential_id) > MAX_CREDENTIAL_ID_BYTES:
        raise InvalidPasskeyResponse(detail="credential id longer than 1023 bytes")
    check_public_key(verified.credential_public_key)
    transports = (credential.get("response") or {}).get("transports") or []
    return RegisteredPasskey(
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        aaguid=verified.aaguid,
        backup_eligible=verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE,
        backup_state=verified.credential_backed_up,
        transports=[t for t in transports if isinstance(t, str)][:8],
    )


def _key_matches(decoded: object, alg: object) -> bool:
    if alg == COSEAlgorithmIdentifier.ECDSA_SHA_256:
        return (
            isinstance(decoded, DecodedEC2PublicKey)
            and decoded.crv == COSECRV.P256
            and len(decoded.x) == len(decoded.y) == 32
        )
    if alg == COSEAlgorithmIdentifier.EDDSA:
        return (
            isinstance(decoded, DecodedOKPPublicKey)
            and decoded.crv == COSECRV.ED25519
            and len(decoded.x) == 32
        )
    if alg == COSEAlgorithmIdentifier.RSASSA_PKCS1_v1_5_SHA_256:
        return (
            isinstance(decoded, DecodedRSAPublicKey)
            and decoded.kty == COSEKTY.RSA
            and int.from_bytes(decoded.n, "big").bit_length() >= MIN_RSA_BITS
        )
    return False


def check_public_key(cose_key: bytes) -> None:
    """The COSE key must be what its ``alg`` says (RFC 9053 2.1 and 2.2, RFC 8812 2): ES256 is
    ECDSA on P-256, EdDSA here is Ed25519, RS256 an RSA key of at least 2048 bits; and the key
    must load (an EC point on its curve). A key labelled one way and built another is refused
    at registration, before it is stored: nothing could later check a signature against it
    with the meaning its label promises."""
    try:
        decoded = decode_credential_public_key(cose_key)
    except _LIBRARY_ERRORS as exc:
        raise InvalidPasskeyResponse(detail=f"unreadable public key: {exc}") from exc
    alg = getattr(decoded, "alg", None)
    ok = _key_matches(decoded, alg)
    if not ok:
        raise InvalidPasskeyResponse(detail=f"public key does not match its algorithm {alg}")
    try:
        decoded_public_key_to_cryptography(decoded)
    except _LIBRARY_ERRORS as exc:
        raise InvalidPasskeyResponse(detail=f"public key does not load: {exc}") from exc


def verify_assertion(
    rp: RelyingParty, credential: dict[str, Any], challenge: bytes, stored: StoredPasskey
) -> Assertion:
    """WebAuthn L3 7.2 steps 11-22 for a credential already matched to ``stored``.

    The signature is checked before the counter so that only a validly signed response can be
    reported as a counter regression (a forged one is simply invalid).
    """
    _check_not_cross_origin(credential)
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origins,
            credential_public_key=stored.public_key,
            # 0 turns off the library's counter rule; Sesame applies its own below, after the
            # signature, so that it can tell a cloned authenticator from a forged response.
            credential_current_sign_count=0,
            require_user_verification=True,
        )
    except _LIBRARY_ERRORS as exc:
        raise InvalidPasskeyResponse(detail=f"authentication: {exc}") from exc
    backup_eligible = verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE
    if backup_eligible != stored.backup_eligible:
        # Step 18: backup eligibility is fixed when the credential is created.
        raise InvalidPasskeyResponse(detail="backup eligibility changed")
    return Assertion(
        credential_id=verified.credential_id,
        user_handle=user_handle_of(credential),
        new_sign_count=verified.new_sign_count,
        backup_eligible=backup_eligible,
        backup_state=verified.credential_backed_up,
    )


def check_owner(
    credential: dict[str, Any], ceremony_data: dict[str, Any], *, owner: Any, owner_handle: bytes
) -> None:
    """WebAuthn L3 7.2 steps 6-7: when the ceremony named an account (username-first: its data
    has ``user_id``, None for an unknown name) the credential must be that account's; a
    discoverable response must carry the owner's ``userHandle``. Every mismatch is the same
    ``UnknownPasskey`` (no enumeration)."""
    named = "user_id" in ceremony_data
    if named and ceremony_data["user_id"] != owner:
        raise UnknownPasskey(detail="credential of another user")
    handle = user_handle_of(credential)
    if handle is None and not named:
        raise InvalidPasskeyResponse(detail="discoverable login without userHandle")
    if handle is not None and handle != owner_handle:
        raise UnknownPasskey(detail="userHandle does not match the credential's owner")


def counter_regressed(stored_count: int, new_count: int) -> bool:
    """WebAuthn L3 6.1.1: zero on both sides is fine (synced passkeys do not count); otherwise
    the counter must grow, or two authenticators hold the same key (a clone)."""
    if stored_count == 0 and new_count == 0:
        return False
    return new_count <= stored_count
