"""Proof Key for Code Exchange (RFC 7636), S256 only (RFC 9700 section 2.1.1: ``plain`` gives
no protection once the request leaks, so it is refused).

Enforced: a challenge sent without method means ``plain`` (RFC 7636 4.3) and is refused; a
challenge must be a 43-character base64url SHA-256; the verifier is 43-128 unreserved characters;
a verifier sent for a code issued without a challenge is refused (a downgrade attempt); a code
issued with a challenge cannot be redeemed without its verifier.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from service.codec import b64url_encode
from service.oidc.errors import InvalidGrant, InvalidRequest

CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")
VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")


def check_challenge(challenge: str | None, method: str | None, *, required: bool) -> str | None:
    """Authorization request side: the challenge to bind to the code, or None."""
    if challenge is None:
        if method is not None:
            raise InvalidRequest("code_challenge_method was sent without code_challenge")
        if required:
            raise InvalidRequest("PKCE is required for public clients: send code_challenge (S256)")
        return None
    if method != "S256":
        raise InvalidRequest("code_challenge_method must be S256 (plain is not supported)")
    if not CHALLENGE.fullmatch(challenge):
        raise InvalidRequest("code_challenge must be a base64url SHA-256 (43 characters)")
    return challenge


def check_verifier(challenge: str | None, verifier: str | None) -> None:
    """Token request side (RFC 7636 4.6)."""
    if challenge is None:
        if verifier is not None:
            raise InvalidGrant("code_verifier sent for a code issued without code_challenge")
        return
    if verifier is None:
        raise InvalidGrant("code_verifier is required for this code")
    if not VERIFIER.fullmatch(verifier):
        raise InvalidGrant("code_verifier must be 43 to 128 unreserved characters")
    digest = hashlib.sha256(verifier.encode()).digest()
    computed = b64url_encode(digest)
    if not hmac.compare_digest(computed, challenge):
        raise InvalidGrant("code_verifier does not match code_challenge")
