"""Client authentication at the token, revocation and introspection endpoints (RFC 6749
section 2.3, OIDC Core 9), as one registry of methods.

``AUTH_METHODS`` lists each method once: how a request shows it uses it, how the client's
claimed identity and secret are read from it, and whether it proves who the client is. The
endpoints authenticate through ``authenticate_client``; discovery advertises the same table.

* ``client_secret_basic`` (RFC 6749 2.3.1): HTTP Basic, both parts form-urlencoded first.
* ``client_secret_post`` (RFC 6749 2.3.1): ``client_id`` and ``client_secret`` in the body.
* ``private_key_jwt`` (RFC 7523 2.2, OIDC Core 9): a JWT the client signed with one of its
  registered keys (``service.oidc.assurance.assertions``); such a client has no secret.
* ``none`` (OIDC Core 9, RFC 8252 8.4): a public client only names itself and is then held to
  PKCE by the authorization code grant.

A request uses exactly one method, and the one the client registered (the two secret methods
stand for each other); secrets are compared as keyed hashes in constant time.
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote

from service.db import clients as client_rows
from service.db import hot
from service.db.models import OAuthClient
from service.oidc.assurance.assertions import (
    ASSERTION_TYPE,
    claimed_client_id,
    verify_assertion,
)
from service.oidc.context import OidcContext
from service.oidc.errors import InvalidClient, InvalidRequest, OAuthError
from service.oidc.presented import Presented
from service.text import TextRejected, check_text


@dataclass(frozen=True)
class Credentials:
    """What a request to the token, revocation or introspection endpoint said about its
    client."""

    authorization: str | None
    client_id: str | None
    client_secret: str | None
    assertion_type: str | None = None
    assertion: str | None = None


def credentials_of(params: dict[str, str], presented: Presented) -> Credentials:
    return Credentials(
        presented.authorization,
        params.get("client_id"),
        params.get("client_secret"),
        params.get("client_assertion_type"),
        params.get("client_assertion"),
    )


@dataclass(frozen=True)
class ClientAuthMethod:
    """One ``token_endpoint_auth_method``: whether a request uses it, what it claims (client id
    and secret), and whether it proves the client's identity (only confidential clients)."""

    name: str
    uses: Callable[[Credentials], bool]
    claims: Callable[[Credentials], tuple[str, str | None]]
    proves_identity: bool


def _uses_basic(creds: Credentials) -> bool:
    return (creds.authorization or "")[:6].lower() == "basic "


def _basic_claims(creds: Credentials) -> tuple[str, str | None]:
    header = creds.authorization or ""
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidClient("malformed Basic authorization header") from exc
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise InvalidClient("malformed Basic authorization header")
    # RFC 6749 2.3.1: both parts are form-urlencoded before base64. The header is text too,
    # in another shape: the same rule as every other input.
    try:
        client_id = unquote(client_id.replace("+", " "), errors="strict")
        secret = unquote(secret.replace("+", " "), errors="strict")
        client_id = check_text("client_id", client_id, 64)
        secret = check_text("client_secret", secret, 256)
    except UnicodeDecodeError as exc:
        raise InvalidRequest("Basic authorization header: not UTF-8 once unescaped") from exc
    except TextRejected as exc:
        raise InvalidRequest(f"Basic authorization header: {exc}") from exc
    if creds.client_id is not None and creds.client_id != client_id:
        raise InvalidClient("client_id does not match the authorization header")
    return client_id, secret


def _uses_assertion(creds: Credentials) -> bool:
    return creds.assertion is not None or creds.assertion_type is not None


def _assertion_claims(creds: Credentials) -> tuple[str, str | None]:
    if creds.assertion_type != ASSERTION_TYPE:
        raise InvalidClient(f"client_assertion_type must be {ASSERTION_TYPE}")
    if not creds.assertion:
        raise InvalidClient("client_assertion is required with client_assertion_type")
    client_id = claimed_client_id(creds.assertion)
    if creds.client_id is not None and creds.client_id != client_id:
        raise InvalidClient("client_id does not match the client assertion's sub")
    return client_id, None


AUTH_METHODS: dict[str, ClientAuthMethod] = {
    method.name: method
    for method in (
        ClientAuthMethod("client_secret_basic", _uses_basic, _basic_claims, True),
        ClientAuthMethod(
            "client_secret_post",
            lambda creds: creds.client_secret is not None,
            lambda creds: (creds.client_id or "", creds.client_secret),
            True,
        ),
        ClientAuthMethod("private_key_jwt", _uses_assertion, _assertion_claims, True),
        ClientAuthMethod(
            "none", lambda creds: True, lambda creds: (creds.client_id or "", None), False
        ),
    )
}
PROVING_METHODS = tuple(name for name, method in AUTH_METHODS.items() if method.proves_identity)


SECRET_METHODS = ("client_secret_basic", "client_secret_post")
# What a client may register (RFC 7591 2); "" stands for its type's own.
REGISTRABLE = (*SECRET_METHODS, "private_key_jwt", "none")


def registered_method(client: OAuthClient) -> str:
    """The method a client is registered with (RFC 7591 2): unless it chose one, confidential
    clients present a secret (``client_secret_post`` is accepted too), public ones none."""
    if client.auth_method:
        return client.auth_method
    return "client_secret_basic" if client.type == "confidential" else "none"


def method_of(creds: Credentials) -> ClientAuthMethod:
    """RFC 6749 2.3: "The client MUST NOT use more than one authentication method in each
    request." The catch-all ``none`` counts only when no other method is used."""
    used = [m for m in AUTH_METHODS.values() if m.proves_identity and m.uses(creds)]
    if len(used) > 1:
        raise InvalidRequest("use one client authentication method, not two")
    return used[0] if used else AUTH_METHODS["none"]


async def authenticate_client(
    ctx: OidcContext,
    creds: Credentials,
    *,
    cached: bool = False,
    accept: Callable[[OAuthClient], None] | None = None,
) -> OAuthClient:
    """A confidential client proves its secret; a public one only names itself. ``accept``
    refuses a client the endpoint does not serve (by raising).

    ``cached``: for a caller that confirms the row it is given (``StaleClient``), the row may
    come from ``ctx.clients`` without a read. A cached row that refuses the request is not
    trusted to: the request is decided again on a row read now (a secret just rotated, a grant
    type just added). Never for ``private_key_jwt``: checking an assertion records its ``jti``,
    and a request decided twice would find its assertion replayed."""
    method = method_of(creds)
    client_id, secret = method.claims(creds)
    if not client_id:
        raise InvalidClient("client authentication is required")
    if len(client_id) > 64:
        raise InvalidClient("unknown client")
    cached = cached and method.name != "private_key_jwt"
    client = ctx.clients.get(client_id) if cached else None
    if client is not None:
        try:
            await _proven(ctx, client, method, secret, creds, accept)
        except OAuthError:
            ctx.clients.drop(client_id)
        else:
            return client
    async with hot.connect(ctx.db) as conn:
        client = await client_rows.find(conn, client_id)
    if client is None:
        raise InvalidClient("unknown client")
    if cached:
        ctx.clients.put(client)
    await _proven(ctx, client, method, secret, creds, accept)
    return client


async def _proven(
    ctx: OidcContext,
    client: OAuthClient,
    method: ClientAuthMethod,
    secret: str | None,
    creds: Credentials,
    accept: Callable[[OAuthClient], None] | None,
) -> None:
    if client.type == "public":
        if secret or method.name == "private_key_jwt":
            raise InvalidClient("this public client has no secret")
    elif registered_method(client) == "private_key_jwt":
        if method.name != "private_key_jwt" or creds.assertion is None:
            raise InvalidClient("this client authenticates with private_key_jwt")
        await verify_assertion(ctx, client, creds.assertion)
    elif method.name == "private_key_jwt":
        raise InvalidClient("this client registered no keys: it authenticates with its secret")
    elif not _secret_matches(ctx, client, secret):
        raise InvalidClient("client authentication failed")
    if accept is not None:
        accept(client)


def _secret_matches(ctx: OidcContext, client: OAuthClient, secret: str | None) -> bool:
    """The secret's keyed hash against the stored one, in constant time."""
    if not secret or client.secret_hash is None:
        return False
    return hmac.compare_digest(ctx.keys.hash("client-secret", secret), client.secret_hash)
