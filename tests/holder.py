"""A client that holds its own keys, as a FAPI app does: it signs DPoP proofs (RFC 9449 4.2)
and client assertions (RFC 7523 2.2) with joserfc, the way an independent library would."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey, OctKey, RSAKey

from tests.processes import free_port

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


class KeyHolder:
    def __init__(self, alg: str = "ES256") -> None:
        self.alg = alg
        self.kid = secrets.token_hex(4)
        if alg.startswith("ES"):
            self.key: ECKey | RSAKey = ECKey.generate_key("P-256", private=True)
        else:
            self.key = RSAKey.generate_key(2048, private=True)

    @property
    def public_jwk(self) -> dict[str, Any]:
        return {**self.key.as_dict(private=False), "kid": self.kid}

    @property
    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.public_jwk]}

    @property
    def thumbprint(self) -> str:
        return self.key.thumbprint()

    def proof(
        self,
        method: str,
        url: str,
        *,
        access_token: str | None = None,
        nonce: str | None = None,
        iat: float | None = None,
        typ: str = "dpop+jwt",
        jwk: dict[str, Any] | None = None,
    ) -> str:
        header = {"typ": typ, "alg": self.alg, "jwk": jwk or self.key.as_dict(private=False)}
        claims: dict[str, Any] = {
            "jti": secrets.token_urlsafe(12),
            "htm": method,
            "htu": url,
            "iat": int(iat if iat is not None else time.time()),
        }
        if access_token is not None:
            digest = hashlib.sha256(access_token.encode()).digest()
            claims["ath"] = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        if nonce is not None:
            claims["nonce"] = nonce
        return jwt.encode(header, claims, self.key)

    def assertion(
        self,
        client_id: str,
        audience: str,
        *,
        jti: str | None = None,
        lifetime: int = 60,
        typ: str | None = None,
        **overrides: Any,
    ) -> str:
        now = int(time.time())
        claims = {
            "iss": client_id,
            "sub": client_id,
            "aud": audience,
            "jti": jti or secrets.token_urlsafe(12),
            "iat": now,
            "exp": now + lifetime,
            **overrides,
        }
        header = {"alg": self.alg, "kid": self.kid, **({"typ": typ} if typ else {})}
        return jwt.encode(header, claims, self.key)

    def assertion_form(self, client_id: str, audience: str, **kw: Any) -> dict[str, str]:
        return {
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": self.assertion(client_id, audience, **kw),
        }


def hmac_assertion(secret: str, client_id: str, audience: str) -> str:
    """A ``client_secret_jwt`` assertion (HS256), which Sesame does not accept."""
    now = int(time.time())
    claims = {"iss": client_id, "sub": client_id, "aud": audience, "jti": "x", "exp": now + 60}
    return jwt.encode({"alg": "HS256"}, claims, OctKey.import_key(secret.encode() * 2))


class JwksServer:
    """A client's jwks_uri: a real HTTP server whose key set can change (rotation)."""

    def __init__(self, jwks: dict) -> None:
        self.jwks = jwks
        self.fetches = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.fetches += 1
                body = json.dumps(owner.jwks).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/jwks.json"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
