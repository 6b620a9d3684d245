"""JOSE signing keys: generation, rotation, JWKS (RFC 7517) and signing/verifying JWTs (RFC 7519).

Keys live in the database so every instance signs with the same key and publishes the same set.
Life of a key:

* ``created_at``: published in JWKS from now on;
* ``not_before``: signs from then on. Rotation sets it a little in the future so that every
  instance's cache and every relying app's cached JWKS hold the new key before any token signed
  with it exists;
* ``retired_at``: the moment a newer key took over. The old key stays published until every token
  it signed has expired (``retired_at`` + the longest token lifetime), then drops out of JWKS.

The private JWK is stored encrypted (AES-256-GCM under a key derived from the server key), so a
database dump alone cannot mint tokens.
"""

from __future__ import annotations

import json
import secrets
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeyParameters, KeySet, OKPKey, RSAKey, import_key

from service.clock import Clock
from service.codec import b64url_encode
from service.db import signing_keys as key_rows
from service.db.engine import Database
from service.db.models import SigningKey
from service.keys.sealed import Sealer

# RFC 9864 deprecates the polymorphic "EdDSA" name in favour of "Ed25519"; relying-party
# libraries still ask for "EdDSA", so Sesame keeps it and silences joserfc's notice.
warnings.filterwarnings("ignore", message="EdDSA is deprecated")

ALGORITHMS = ("RS256", "ES256", "EdDSA")
DEFAULT_ALG = "RS256"


class TokenInvalid(Exception):
    """A JWT that is malformed, signed by an unknown key, or badly signed."""


def _generate(alg: str, kid: str) -> RSAKey | ECKey | OKPKey:
    params: KeyParameters = {"kid": kid, "alg": alg, "use": "sig"}
    if alg == "RS256":
        return RSAKey.generate_key(2048, parameters=params, private=True)
    if alg == "ES256":
        return ECKey.generate_key("P-256", parameters=params, private=True)
    if alg == "EdDSA":
        return OKPKey.generate_key("Ed25519", parameters=params, private=True)
    raise ValueError(f"unsupported signing algorithm {alg}")


class CompactSigner:
    """Signs JWTs with one key: RS256 (RSASSA-PKCS1-v1_5 with SHA-256), ES256 (ECDSA P-256
    with SHA-256, the signature as R || S, RFC 7518 3.4) or EdDSA (Ed25519, RFC 8037 3.1)."""

    def __init__(self, key: RSAKey | ECKey | OKPKey, alg: str, kid: str) -> None:
        self._key = key.private_key
        self._alg = alg
        self._kid = kid
        self._headers: dict[str, str] = {}

    def _header(self, typ: str) -> str:
        found = self._headers.get(typ)
        if found is None:
            header = {"alg": self._alg, "kid": self._kid, "typ": typ}
            found = self._headers[typ] = b64url_encode(
                json.dumps(header, separators=(",", ":")).encode()
            )
        return found

    def _signature(self, data: bytes) -> bytes:
        key: Any = self._key
        if self._alg == "RS256":
            return bytes(key.sign(data, padding.PKCS1v15(), hashes.SHA256()))
        if self._alg == "ES256":
            r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return bytes(key.sign(data))  # Ed25519

    def sign(self, claims: dict[str, Any], typ: str) -> str:
        payload = b64url_encode(json.dumps(claims, separators=(",", ":")).encode())
        signing_input = f"{self._header(typ)}.{payload}"
        return f"{signing_input}.{b64url_encode(self._signature(signing_input.encode()))}"


@dataclass(frozen=True)
class _Loaded:
    rows: list[SigningKey]
    loaded_at: datetime
    public: KeySet  # parsed once per load, not once per token checked


class Signer:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        encryption_key: bytes,
        *,
        cache_seconds: int,
        max_token_seconds: int,
    ) -> None:
        self._db = db
        self._clock = clock
        self._sealer = Sealer(encryption_key)
        self._cache_seconds = cache_seconds
        self._max_token = timedelta(seconds=max_token_seconds)
        self._loaded: _Loaded | None = None
        self._private: dict[str, Any] = {}  # kid -> joserfc key (immutable once made)
        self._signers: dict[str, CompactSigner] = {}

    # -- storage -------------------------------------------------------------------------------

    def _new_row(self, alg: str, now: datetime, not_before: datetime) -> SigningKey:
        kid = f"{alg.lower()}-{now:%Y%m%d}-{secrets.token_hex(4)}"
        key = _generate(alg, kid)
        sealed = self._sealer.seal(json.dumps(key.as_dict(private=True)).encode(), kid.encode())
        return SigningKey(
            kid=kid,
            alg=alg,
            private_jwk=sealed,
            public_jwk=json.dumps(key.as_dict(private=False)),
            created_at=now,
            not_before=not_before,
        )

    def _open(self, row: SigningKey) -> Any:
        key = self._private.get(row.kid)
        if key is None:
            plain = self._sealer.open(row.private_jwk, row.kid.encode())
            key = import_key(json.loads(plain))
            self._private[row.kid] = key
        return key

    async def ensure(self) -> list[str]:
        """First start: create a key for every algorithm that has none. Returns the new kids."""
        now = self._clock.now()
        async with self._db.session() as db:
            have = {row.alg for row in await key_rows.current(db)}
            made = [self._new_row(alg, now, now) for alg in ALGORITHMS if alg not in have]
            for row in made:
                await key_rows.add(db, row)
            await db.commit()
        self._loaded = None
        return [row.kid for row in made]

    async def rotate(self, *, delay_seconds: int) -> list[str]:
        """Publish a new key per algorithm now; it signs after ``delay_seconds``, and the keys
        it replaces retire then."""
        now = self._clock.now()
        starts = now + timedelta(seconds=delay_seconds)
        async with self._db.session() as db:
            made = [self._new_row(alg, now, starts) for alg in ALGORITHMS]
            await key_rows.retire_current(db, at=starts)
            for row in made:
                await key_rows.add(db, row)
            await db.commit()
        self._loaded = None
        return [row.kid for row in made]

    async def _load(self) -> _Loaded:
        now = self._clock.now()
        loaded = self._loaded
        if loaded is None or now - loaded.loaded_at >= timedelta(seconds=self._cache_seconds):
            async with self._db.session() as db:
                rows = await key_rows.published(db, now - self._max_token)
            public = KeySet([import_key(json.loads(row.public_jwk)) for row in rows])
            loaded = _Loaded(rows=rows, loaded_at=now, public=public)
            self._loaded = loaded
        return loaded

    async def _rows(self) -> list[SigningKey]:
        return (await self._load()).rows

    # -- use -----------------------------------------------------------------------------------

    async def jwks(self) -> dict[str, Any]:
        """RFC 7517 section 5: every published public key, signing or not yet / no longer."""
        rows = await self._rows()
        if not rows:
            await self.ensure()
            rows = await self._rows()
        return {"keys": [json.loads(row.public_jwk) for row in rows]}

    async def _signing_row(self, alg: str) -> SigningKey:
        now = self._clock.now()
        usable = [
            row
            for row in await self._rows()
            if row.alg == alg
            and row.not_before <= now
            and (row.retired_at is None or now < row.retired_at)
        ]
        if not usable:
            # A rotation that retired the old key before this instance loaded the new one, or
            # a database without keys yet: look again without the cache, creating if needed.
            self._loaded = None
            usable = [r for r in await self._rows() if r.alg == alg and r.not_before <= now]
            if not usable:
                await self.ensure()
                now = self._clock.now()
                usable = [r for r in await self._rows() if r.alg == alg and r.not_before <= now]
        if not usable:
            raise RuntimeError(f"no {alg} signing key could be loaded or created")
        return max(usable, key=lambda r: (r.not_before, r.id or 0))

    async def sign(self, claims: dict[str, Any], *, alg: str, typ: str = "JWT") -> str:
        """A compact JWS (RFC 7515 7.1) of ``claims``. The header's encoding is made once per
        key and type, and the signature is ``cryptography``'s own call: the same bytes joserfc
        would produce, without its per-token key and header handling."""
        return self._signer(await self._signing_row(alg)).sign(claims, typ)

    def _signer(self, row: SigningKey) -> CompactSigner:
        signer = self._signers.get(row.kid)
        if signer is None:
            signer = self._signers[row.kid] = CompactSigner(self._open(row), row.alg, row.kid)
        return signer

    async def warm(self) -> None:
        """Open the keys that sign now, at start-up: opening an RSA private key checks it
        (tens of milliseconds), which the first token of each worker would otherwise wait for.
        A key that starts signing later (a rotation) is opened by its first token."""
        for alg in ALGORITHMS:
            self._signer(await self._signing_row(alg))

    async def verify(
        self, token: str, *, algorithms: Sequence[str] = ALGORITHMS, typ: str | None = None
    ) -> dict[str, Any]:
        """Check the signature against the published keys (and the ``typ`` header when given);
        the claims are the caller's to check."""
        if len(token) > 8192 or token.count(".") != 2:
            raise TokenInvalid("not a compact JWS")
        keys = (await self._load()).public
        try:
            decoded = jwt.decode(token, keys, algorithms=list(algorithms))
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise TokenInvalid(str(exc)) from exc
        if typ is not None and decoded.header.get("typ") != typ:
            raise TokenInvalid(f"typ is not {typ}")
        return dict(decoded.claims)
