"""DPoP: sender-constrained tokens (RFC 9449).

A client shows it holds a key by signing, for each request, a short JWT (the proof, header
``DPoP``) over the method and URL; the access token it gets names that key's thumbprint
(``cnf.jkt``, RFC 7638) and is worth nothing without a fresh proof by the same key.

``check_proof`` applies 4.3 to one request's proof:

* exactly one ``DPoP`` header, a compact JWS with ``typ: dpop+jwt``, an asymmetric ``alg``
  (``signed``), and in its header the public ``jwk`` (no private members) that verifies it;
* ``htm`` the request's method, ``htu`` the endpoint's URL (no query, no fragment);
* ``iat`` within ``IAT_WINDOW`` seconds of now;
* ``jti`` single use: remembered in the shared store, per key, for twice the window, so a
  replayed proof is refused on every replica;
* ``ath``, when an access token goes with it, the token's SHA-256 (7.1);
* ``nonce``, where Sesame asks for one (``SESAME_DPOP_NONCE``, on by default at ``/token`` and
  ``/par``): one Sesame made in the current or the previous ``NONCE_SECONDS``; otherwise
  ``use_dpop_nonce`` with a fresh one in ``DPoP-Nonce`` (8). Nonces are stateless: a keyed
  hash of the time slot, the same on every replica.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from dataclasses import dataclass

from service.codec import b64url_decode, b64url_encode
from service.oidc.assurance.jwks import KeysUnavailable, public_key
from service.oidc.assurance.signed import ASYMMETRIC, BadSignature, header_of, verify
from service.oidc.context import OidcContext
from service.oidc.errors import DpopTokenRefused, InvalidDpopProof, OAuthError, UseDpopNonce
from service.oidc.presented import Presented

PROOF_TYP = "dpop+jwt"
IAT_WINDOW = 60
NONCE_SECONDS = 300


@dataclass(frozen=True)
class Proof:
    """A checked proof: the thumbprint of its key (RFC 7638, SHA-256)."""

    jkt: str


def thumbprint_ok(value: str) -> bool:
    """A base64url SHA-256 thumbprint, as ``dpop_jkt`` carries one (RFC 9449 10)."""
    if len(value) != 43:
        return False
    try:
        return len(b64url_decode(value)) == 32
    except ValueError:
        return False


def access_token_hash(token: str) -> str:
    return b64url_encode(hashlib.sha256(token.encode()).digest())


def _nonce_for(ctx: OidcContext, slot: int) -> str:
    packed = struct.pack(">I", slot & 0xFFFFFFFF)
    return b64url_encode(packed + ctx.keys.hash("dpop-nonce", packed.hex())[:16])


def new_nonce(ctx: OidcContext) -> str:
    return _nonce_for(ctx, int(ctx.clock.now().timestamp()) // NONCE_SECONDS)


def _nonce_ok(ctx: OidcContext, nonce: object) -> bool:
    if not isinstance(nonce, str) or len(nonce) > 64:
        return False
    slot = int(ctx.clock.now().timestamp()) // NONCE_SECONDS
    return any(hmac.compare_digest(nonce, _nonce_for(ctx, s)) for s in (slot, slot - 1))


async def at_server(ctx: OidcContext, presented: Presented) -> Proof | None:
    """The proof sent with a POST to one of Sesame's back-channel endpoints (``/token``,
    ``/par``; RFC 9449 5 and 10.1), with a nonce where ``SESAME_DPOP_NONCE`` asks for one.
    Checked before client authentication, so a request made only to learn the nonce spends
    no client assertion. Without a DPoP header (most requests) it returns at once."""
    if not presented.dpop:
        return None
    return await check_proof(
        ctx,
        presented.dpop,
        method="POST",
        url=presented.endpoint(ctx.settings.issuer),
        nonce=ctx.settings.dpop_nonce,
    )


async def check_proof(
    ctx: OidcContext,
    proofs: tuple[str, ...],
    *,
    method: str,
    url: str,
    access_token: str | None = None,
    nonce: bool = False,
    refuse: type[OAuthError] = InvalidDpopProof,
) -> Proof | None:
    """The request's proof checked, or None when it carries none. ``refuse``: the error for a
    bad proof (``invalid_dpop_proof`` at the authorization server; a DPoP challenge at a
    resource)."""
    if not proofs:
        return None
    if len(proofs) > 1:
        raise refuse("send one DPoP proof, not several")
    try:
        header = header_of(proofs[0])
        if header.get("typ") != PROOF_TYP:
            raise BadSignature(f"typ must be {PROOF_TYP}")
        key = public_key(header.get("jwk"))
        _, claims = verify(proofs[0], [key], ASYMMETRIC)
    except (BadSignature, KeysUnavailable) as exc:
        raise refuse(f"DPoP proof refused: {exc}") from exc
    now = ctx.clock.now().timestamp()
    jti, iat = claims.get("jti"), claims.get("iat")
    if not isinstance(jti, str) or not 0 < len(jti) <= 200:
        raise refuse("the DPoP proof needs a jti")
    if claims.get("htm") != method:
        raise refuse(f"the DPoP proof's htm is not {method}")
    if not isinstance(claims.get("htu"), str) or _bare(claims["htu"]) != _bare(url):
        raise refuse(f"the DPoP proof's htu is not {url}")
    if not isinstance(iat, int | float) or abs(now - iat) > IAT_WINDOW:
        raise refuse("the DPoP proof's iat is too old or in the future")
    if access_token is not None and claims.get("ath") != access_token_hash(access_token):
        raise refuse("the DPoP proof's ath does not match the access token")
    if nonce and not _nonce_ok(ctx, claims.get("nonce")):
        raise UseDpopNonce("the DPoP proof must carry the nonce Sesame sent", new_nonce(ctx))
    jkt = key.thumbprint()
    seen = "dpop-jti:" + ctx.keys.hash_hex("dpop-jti", f"{jkt} {jti}")
    if await ctx.store.incr(seen, 2 * IAT_WINDOW + 1) != 1:
        raise refuse("this DPoP proof was used before")
    return Proof(jkt)


def _bare(url: str) -> str:
    """RFC 9449 4.3 (9): compared without query and fragment, scheme and host in lower case."""
    base = url.split("#", 1)[0].split("?", 1)[0]
    scheme, sep, rest = base.partition("://")
    host, slash, path = rest.partition("/")
    return f"{scheme.lower()}{sep}{host.lower()}{slash}{path}"


async def check_presented(
    ctx: OidcContext,
    claims: dict[str, object],
    token: str,
    scheme: str,
    proofs: tuple[str, ...],
    *,
    method: str,
    url: str,
) -> None:
    """RFC 9449 7.1 at Sesame's own resource (UserInfo): a token bound to a key (``cnf.jkt``)
    comes with the ``DPoP`` scheme and a proof by that key over this request and this token;
    an unbound token comes as a bearer token."""
    cnf = claims.get("cnf")
    jkt = cnf.get("jkt") if isinstance(cnf, dict) else None
    if jkt is None:
        if scheme == "DPoP":
            raise DpopTokenRefused("this access token is not DPoP-bound", error="invalid_token")
        return
    if scheme != "DPoP":
        raise DpopTokenRefused(
            "this access token is DPoP-bound: send it as 'Authorization: DPoP' with a proof",
            error="invalid_token",
        )
    proof = await check_proof(
        ctx, proofs, method=method, url=url, access_token=token, refuse=DpopTokenRefused
    )
    if proof is None:
        raise DpopTokenRefused("a DPoP proof is required with this access token")
    if proof.jkt != jkt:
        raise DpopTokenRefused("the DPoP proof is signed by another key than the token's")
