"""Options for navigator.credentials.create/get (WebAuthn L3 5.4 and 5.5), as JSON dicts."""

from __future__ import annotations

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


def descriptor(credential_id: bytes, transports: str = "") -> PublicKeyCredentialDescriptor:
    known = [_TRANSPORTS[t] for t in transports.split(",") if t in _TRANSPORTS]
    return PublicKeyCredentialDescriptor(id=credential_id, transports=known or None)


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
