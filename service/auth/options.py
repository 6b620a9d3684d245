"""Options for navigator.credentials.create/get (WebAuthn L3 5.4 and 5.5), as JSON dicts."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from webauthn import generate_authentication_options, generate_registration_options, options_to_json
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from service.auth.verification import SUPPORTED_ALGORITHMS, RelyingParty

_TRANSPORTS = {t.value: t for t in AuthenticatorTransport}


# What a passkey looks like in allowCredentials today: a 32-byte credential id (platform and
# synced passkeys: Chrome, Android, Windows) usable on this device or by hybrid transport.
DECOY_ID_BYTES = 32
DECOY_TRANSPORTS = "hybrid,internal"


def descriptor(credential_id: bytes, transports: str = "") -> PublicKeyCredentialDescriptor:
    # Sorted, as getTransports() reports them (WebAuthn L3 5.2.1), so that the order of a
    # stored list never differs from a decoy's.
    names = sorted({t for t in transports.split(",") if t in _TRANSPORTS})
    known = [_TRANSPORTS[t] for t in names]
    return PublicKeyCredentialDescriptor(id=credential_id, transports=known or None)


def decoy_descriptors(seed: bytes) -> list[PublicKeyCredentialDescriptor]:
    """allowCredentials for an account that does not exist (or has no passkey), shaped like a
    real one's: one entry, a real-looking id length and transports. ``seed`` is a keyed hash of
    the name asked for, so the same name always gets the same answer and nobody without the
    server key can tell a decoy from a passkey."""
    credential_id = hashlib.sha256(b"decoy-credential-id\x00" + seed).digest()[:DECOY_ID_BYTES]
    return [descriptor(credential_id, DECOY_TRANSPORTS)]


def creation_options(
    rp: RelyingParty,
    *,
    challenge: bytes,
    user_handle: bytes,
    username: str,
    display_name: str,
    exclude: list[PublicKeyCredentialDescriptor],
) -> dict[str, Any]:
    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        user_id=user_handle,
        user_name=username,
        user_display_name=display_name or username,
        challenge=challenge,
        timeout=rp.timeout_seconds * 1000,
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            require_resident_key=True,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        # The authenticator refuses to make a second passkey for an account it already holds.
        exclude_credentials=exclude,
        supported_pub_key_algs=SUPPORTED_ALGORITHMS,
    )
    result: dict[str, Any] = json.loads(options_to_json(options))
    return result


def request_options(
    rp: RelyingParty, *, challenge: bytes, allow: list[PublicKeyCredentialDescriptor]
) -> dict[str, Any]:
    options = generate_authentication_options(
        rp_id=rp.id,
        challenge=challenge,
        timeout=rp.timeout_seconds * 1000,
        allow_credentials=allow,
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    result: dict[str, Any] = json.loads(options_to_json(options))
    return result
