"""A client's public keys (RFC 7591 2: ``jwks`` or ``jwks_uri``; RFC 7517), with which it signs
client assertions (``assertions``) and request objects (``request_object``).

Registered inline, a JWK Set is checked once, at registration: public keys only (a private
member is refused, so a leaked registration never holds a secret), RSA of 2048 bits or more,
EC on P-256, OKP on Ed25519, at most ``MAX_KEYS``. A ``jwks_uri`` is fetched when a key is
needed and kept ``CACHE_SECONDS``: without redirects, within ``FETCH_TIMEOUT`` seconds and
``MAX_JWKS_BYTES``, and never from a private or loopback address unless Sesame itself runs on
localhost (SSRF, RFC 7591 5). A signature by a key id the cached set lacks fetches the set again
(the client rotated), at most once per ``REFETCH_SECONDS``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
import time
from typing import Any
from urllib.parse import urlsplit

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, OKPKey, RSAKey

from service.db.models import OAuthClient
from service.oidc.context import OidcContext

MAX_KEYS = 20
MAX_JWKS_BYTES = 64 * 1024
FETCH_TIMEOUT = 5.0
CACHE_SECONDS = 300
REFETCH_SECONDS = 30
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}
PublicKey = RSAKey | ECKey | OKPKey


class KeysUnavailable(Exception):
    """The client's keys could not be had (a bad set, a failed fetch); the caller refuses."""


def parse_jwks(raw: str | bytes | dict[str, Any]) -> list[PublicKey]:
    """The keys of a JWK Set, each checked (``KeysUnavailable`` says what is wrong)."""
    try:
        data = json.loads(raw) if isinstance(raw, str | bytes) else raw
    except ValueError as exc:
        raise KeysUnavailable("the JWK Set is not JSON") from exc
    keys = data.get("keys") if isinstance(data, dict) else None
    if not isinstance(keys, list) or not keys:
        raise KeysUnavailable('a JWK Set is {"keys": [...]} with at least one key')
    if len(keys) > MAX_KEYS:
        raise KeysUnavailable(f"a JWK Set of at most {MAX_KEYS} keys")
    return [public_key(jwk) for jwk in keys]


def public_key(jwk: Any) -> PublicKey:
    if not isinstance(jwk, dict):
        raise KeysUnavailable("each key is a JSON object")
    if PRIVATE_MEMBERS & set(jwk):
        raise KeysUnavailable("register public keys only (this one has private members)")
    kty, crv = jwk.get("kty"), jwk.get("crv")
    try:
        if kty == "RSA":
            key: PublicKey = RSAKey.import_key(jwk)
            if key.raw_value.key_size < 2048:  # type: ignore[union-attr]
                raise KeysUnavailable("RSA keys of at least 2048 bits")
        elif kty == "EC" and crv == "P-256":
            key = ECKey.import_key(jwk)
        elif kty == "OKP" and crv == "Ed25519":
            key = OKPKey.import_key(jwk)
        else:
            raise KeysUnavailable("keys are RSA, EC P-256 or OKP Ed25519")
    except (JoseError, ValueError, TypeError) as exc:
        raise KeysUnavailable(f"a key cannot be read: {exc}") from exc
    return key


def checked_jwks(raw: str | dict[str, Any]) -> str:
    """A JWK Set to register, as the JSON stored (``ValueError`` with the reason)."""
    try:
        keys = parse_jwks(raw)
    except KeysUnavailable as exc:
        raise ValueError(str(exc)) from None
    return json.dumps({"keys": [key.as_dict(private=False) for key in keys]})


def jwks_uri_problem(uri: str) -> str | None:
    if len(uri) > 2000 or any(ch.isspace() for ch in uri):
        return "must be one URI of at most 2000 characters"
    parts = urlsplit(uri)
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and parts.hostname in {"localhost", "127.0.0.1", "::1"}:
        return None
    return "must use https (or http on a loopback host)"


class _Cached:
    def __init__(self, keys: list[PublicKey], fetched: float) -> None:
        self.keys = keys
        self.fetched = fetched


_CACHE: dict[str, _Cached] = {}


async def client_keys(
    ctx: OidcContext, client: OAuthClient, kid: str | None = None
) -> list[PublicKey]:
    """The client's keys; with ``kid``, only that key (fetched again when a ``jwks_uri``'s
    cached set lacks it)."""
    if client.jwks:
        keys = parse_jwks(client.jwks)
    elif client.jwks_uri:
        keys = await _fetched(ctx, client.jwks_uri, kid)
    else:
        raise KeysUnavailable("the client registered no keys")
    if kid is None:
        return keys
    return [key for key in keys if key.kid == kid]


async def _fetched(ctx: OidcContext, uri: str, kid: str | None) -> list[PublicKey]:
    now = time.monotonic()
    cached = _CACHE.get(uri)
    stale = cached is None or now - cached.fetched > CACHE_SECONDS
    missing = (
        cached is not None
        and kid is not None
        and all(key.kid != kid for key in cached.keys)
        and now - cached.fetched > REFETCH_SECONDS
    )
    if stale or missing:
        keys = parse_jwks(await fetch(uri, allow_private=ctx.settings.is_local_http))
        if len(_CACHE) > 1000:
            _CACHE.clear()
        cached = _CACHE[uri] = _Cached(keys, now)
    assert cached is not None
    return cached.keys


async def fetch(uri: str, *, allow_private: bool) -> bytes:
    import httpx  # only when a client's keys are fetched: a serving process may never need it

    parts = urlsplit(uri)
    host = parts.hostname or ""
    if not allow_private:
        await _check_public(host, parts.port or (443 if parts.scheme == "https" else 80))
    try:
        async with (
            httpx.AsyncClient(timeout=FETCH_TIMEOUT, follow_redirects=False) as http,
            http.stream("GET", uri, headers={"Accept": "application/json"}) as reply,
        ):
            if reply.status_code != 200:
                raise KeysUnavailable(f"jwks_uri answered {reply.status_code}")
            body = b""
            async for chunk in reply.aiter_bytes():
                body += chunk
                if len(body) > MAX_JWKS_BYTES:
                    raise KeysUnavailable(f"jwks_uri sent more than {MAX_JWKS_BYTES} bytes")
            return body
    except httpx.HTTPError as exc:
        raise KeysUnavailable(f"jwks_uri could not be fetched: {type(exc).__name__}") from exc


async def _check_public(host: str, port: int) -> None:
    """Every address the host resolves to must be a public one."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise KeysUnavailable("jwks_uri's host does not resolve") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise KeysUnavailable("jwks_uri points at a private address")
