"""Relying apps: registration rules, secrets and client authentication.

* Redirect URIs (RFC 9700 section 4.1, RFC 8252 sections 7.1-7.3): absolute, no fragment, no
  userinfo, no wildcard; https, or http on a loopback host only, or for a public (native)
  client a private-use scheme in reverse domain order. They are compared as exact strings,
  except that a loopback IP literal may come back on any port (native apps).
* Secrets: 256 random bits, shown once, stored as a keyed hash (HMAC-SHA256), compared in
  constant time.
* Allowed origins (browser apps): the origins whose scripts may call the back-channel
  endpoints cross-origin (``cors``); by default a public client's web redirect origins.
* Grant types: the registry in ``grants`` decides which a client may register.
* Client authentication at the endpoints is ``client_auth``.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.exc import IntegrityError

from service import audit
from service.db import clients as client_rows
from service.db import groups as group_rows
from service.db.models import OAuthClient
from service.keys.signing import ALGORITHMS, DEFAULT_ALG
from service.oidc.apis import API_ID_PREFIX, api_access, check_api_access
from service.oidc.assurance import profile
from service.oidc.assurance.profile import Assurance
from service.oidc.client_auth import registered_method
from service.oidc.client_links import LINK_NAMES, checked_links, dump_links, load_links
from service.oidc.context import OidcContext
from service.oidc.cors import MAX_ORIGINS, origin_problem
from service.oidc.grants import (
    DEFAULT_GRANT_TYPES,
    GRANT_TYPES,
    canonical,
    registration_problem,
)
from service.oidc.groups import resolve_allowed
from service.problems import Problem
from service.text import split_url

# OIDC Core 5.4 and 11: what a client may register. ``groups`` (the person's group names,
# service.oidc.groups) and offline_access (a refresh token that outlives the browser session)
# only when asked for; new clients get the first three.
SCOPES = ("openid", "profile", "email", "groups", "offline_access")
DEFAULT_SCOPES = ("openid", "profile", "email")
CLIENT_TYPES = ("public", "confidential")
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}
LOOPBACK_IPS = {"127.0.0.1", "::1"}


class ClientRejected(Problem):
    """A client registration that breaks a rule; the message says which (RFC 7591 3.2.2)."""

    error = "invalid_client_metadata"


class ClientIdTaken(ClientRejected):
    """The client id asked for is already registered (a conflict, not malformed input)."""

    error = "client_id_taken"
    status_code = 409


class PublicClientSecret(Problem):
    """A public client has no secret to rotate."""

    error = "public_client"
    status_code = 409
    message = "A public client has no secret."


@dataclass
class ClientSpec:
    name: str
    redirect_uris: list[str]
    type: str = "confidential"
    post_logout_redirect_uris: list[str] = field(default_factory=list)
    scopes: list[str] = field(default_factory=lambda: list(DEFAULT_SCOPES))
    grant_types: list[str] = field(default_factory=lambda: list(DEFAULT_GRANT_TYPES))
    id_token_alg: str = DEFAULT_ALG
    first_party: bool = False
    client_id: str | None = None
    # None: a public client's web redirect origins (see default_origins); [] for none at all.
    allowed_origins: list[str] | None = None
    # Back-Channel Logout 1.0 2.2: where to post logout tokens ("" for never).
    backchannel_logout_uri: str = ""
    # RFC 8707: the registered APIs (by audience) and which of their scopes this client may get.
    api_access: dict[str, list[str]] = field(default_factory=dict)
    # RFC 7591 2: logo_uri, client_uri, policy_uri, tos_uri (service.oidc.client_links).
    links: dict[str, str] = field(default_factory=dict)
    # Admit only members of these groups (service.oidc.groups); empty admits everyone.
    allowed_groups: list[str] = field(default_factory=list)
    # RFC 9126 6: authorization requests only through /par.
    require_par: bool = False
    # Keys, auth method, DPoP, the FAPI 2.0 profile (service.oidc.assurance.profile).
    assurance: Assurance = field(default_factory=Assurance)


# RFC 8252 7.1: a private-use scheme is a reverse domain name the app controls.
PRIVATE_USE_SCHEME = re.compile(r"[a-z][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)+")
# Schemes that run or read something where they land: never a redirect (RFC 9700 4.1, 4.11).
DANGEROUS_SCHEMES = {"javascript", "data", "file", "vbscript", "blob", "about"}
WEB_RULE = "must use https (or http on a loopback host)"


def redirect_uri_problem(uri: str, *, public: bool = False) -> str | None:
    """Why ``uri`` cannot be registered, or None when it can. ``public``: the client is a
    public (native or browser) app, which may also use a private-use scheme (RFC 8252 7.1)."""
    if not uri or len(uri) > 2000 or any(ch.isspace() for ch in uri) or "*" in uri:
        return "must be a single absolute URI without spaces or wildcards"
    parts = split_url(uri)
    if parts is None:
        return "is not a valid URI"
    if parts.fragment or "#" in uri:
        return "must not contain a fragment"
    if "@" in parts.netloc:
        return "must not contain userinfo (user@host)"
    if parts.scheme in DANGEROUS_SCHEMES:
        return f"{WEB_RULE}; {parts.scheme}: is never a redirect"
    if parts.scheme not in {"https", "http"}:
        return _private_use_problem(parts.scheme, public)
    if not parts.hostname:
        return "must name a host"
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        return "http is allowed only on a loopback host (localhost, 127.0.0.1, [::1])"
    return None


def _private_use_problem(scheme: str, public: bool) -> str | None:
    """RFC 8252 7.1: a native app's own scheme, in reverse domain order (``com.example.app``);
    only a public client may use one, since any app on the device could claim it."""
    if not scheme or not PRIVATE_USE_SCHEME.fullmatch(scheme):
        return (
            f"{WEB_RULE}, or for a native app a private-use scheme in reverse domain order "
            "such as com.example.app:/callback"
        )
    if not public:
        return "a private-use scheme (RFC 8252 7.1) is for public (native) clients only"
    return None


def default_origins(spec: ClientSpec) -> list[str]:
    """A public client's browser origins, read from its web redirect URIs. Loopback IP literals
    are a native app's (RFC 8252 7.3), not a browser app's, and private-use schemes have none."""
    if spec.type != "public":
        return []
    origins = []
    for uri in spec.redirect_uris:
        parts = split_url(uri)
        if parts is None or parts.scheme not in {"https", "http"}:
            continue
        if parts.hostname in LOOPBACK_IPS:
            continue
        origins.append(f"{parts.scheme}://{parts.netloc}".lower())
    return list(dict.fromkeys(origins))


def _origins(spec: ClientSpec) -> list[str]:
    return spec.allowed_origins if spec.allowed_origins is not None else default_origins(spec)


def redirect_uri_matches(registered: list[str], given: str) -> bool:
    """Exact string comparison (no normalising, no unescaping, no prefix match). The one
    exception, RFC 8252 7.3: a loopback IP literal matches on any port, because a native app
    gets its port from the OS at run time."""
    if given in registered:
        return True
    try:
        parts = urlsplit(given)
        if parts.port is None:
            return False
    except ValueError:
        return False
    if parts.scheme != "http" or parts.hostname not in LOOPBACK_IPS or "@" in parts.netloc:
        return False
    for uri in registered:
        reg = split_url(uri)
        if reg is None:
            continue
        same = (reg.scheme, reg.hostname, reg.path, reg.query)
        if same == ("http", parts.hostname, parts.path, parts.query) and not parts.fragment:
            return True
    return False


def check_logout_uri(uri: str) -> None:
    """Back-Channel Logout 1.0 2.2: absolute, https (or http on loopback), no fragment."""
    problem = redirect_uri_problem(uri) if uri else None
    if problem:
        raise ClientRejected(f"back-channel logout URI {problem}")


def check_origins(origins: list[str]) -> None:
    if len(origins) > MAX_ORIGINS:
        raise ClientRejected(f"allowed origins: at most {MAX_ORIGINS}")
    for origin in origins:
        problem = origin_problem(origin)
        if problem:
            raise ClientRejected(f"allowed origin {origin!r} {problem}")


def checked_client_links(links: dict[str, str]) -> dict[str, str]:
    try:
        return checked_links(links)
    except ValueError as exc:
        raise ClientRejected(str(exc)) from None


def check_redirects(kind: str, uris: list[str], public: bool) -> None:
    for uri in uris:
        problem = redirect_uri_problem(uri, public=public)
        if problem:
            raise ClientRejected(f"{kind} {uri!r} {problem}")


def _check(spec: ClientSpec) -> None:
    spec.grant_types = canonical(spec.grant_types)
    if not spec.name.strip() or len(spec.name) > 100:
        raise ClientRejected("name: 1 to 100 characters")
    if spec.type not in CLIENT_TYPES:
        raise ClientRejected(f"type: one of {', '.join(CLIENT_TYPES)}")
    check_redirects("redirect URI", spec.redirect_uris, spec.type == "public")
    check_redirects(
        "post-logout redirect URI", spec.post_logout_redirect_uris, spec.type == "public"
    )
    spec.links = checked_client_links(spec.links)
    check_logout_uri(spec.backchannel_logout_uri)
    check_origins(spec.allowed_origins or [])
    unknown = set(spec.scopes) - set(SCOPES)
    if unknown or "openid" not in spec.scopes:
        raise ClientRejected(f"scopes: a subset of {' '.join(SCOPES)} that includes openid")
    problem = registration_problem(spec)
    if problem:
        raise ClientRejected(problem)
    if spec.id_token_alg not in ALGORITHMS:
        raise ClientRejected(f"ID token algorithm: one of {', '.join(ALGORITHMS)}")
    if spec.client_id is not None and not (
        0 < len(spec.client_id) <= 64 and all(c.isalnum() or c in "-_." for c in spec.client_id)
    ):
        raise ClientRejected("client id: 1 to 64 letters, digits, '-', '_' or '.'")
    if spec.client_id is not None and spec.client_id.startswith(API_ID_PREFIX):
        raise ClientRejected(f"client id: {API_ID_PREFIX}... names APIs, not clients")


def _new_secret(ctx: OidcContext) -> tuple[str, bytes]:
    secret = secrets.token_urlsafe(32)
    return secret, ctx.keys.hash("client-secret", secret)


async def create_client(
    ctx: OidcContext, spec: ClientSpec, *, actor: str = "admin"
) -> tuple[OAuthClient, str | None]:
    """Register a client; returns it and its secret (confidential clients), shown only now."""
    _check(spec)
    problem = await check_api_access(ctx, spec.api_access)
    if problem:
        raise ClientRejected(problem)
    try:
        assured = profile.columns(spec.assurance, spec.type, spec.id_token_alg)
    except ValueError as exc:
        raise ClientRejected(str(exc)) from None
    group_pks = await resolve_allowed(ctx, spec.allowed_groups)
    with_secret = profile.has_secret(spec.type, assured["auth_method"])
    secret, secret_hash = _new_secret(ctx) if with_secret else (None, None)
    row = OAuthClient(
        # Hex: a random id must never start with "-" (the CLI would read it as an option).
        client_id=spec.client_id or secrets.token_hex(12),
        name=spec.name.strip(),
        type=spec.type,
        secret_hash=secret_hash,
        redirect_uris=" ".join(dict.fromkeys(spec.redirect_uris)),
        post_logout_redirect_uris=" ".join(dict.fromkeys(spec.post_logout_redirect_uris)),
        scopes=" ".join(s for s in SCOPES if s in spec.scopes),
        grant_types=" ".join(g for g in GRANT_TYPES if g in spec.grant_types),
        id_token_alg=spec.id_token_alg,
        first_party=spec.first_party,
        created_at=ctx.clock.now(),
        allowed_origins=" ".join(dict.fromkeys(o.lower() for o in _origins(spec))),
        backchannel_logout_uri=spec.backchannel_logout_uri,
        api_access=json.dumps({k: list(dict.fromkeys(v)) for k, v in spec.api_access.items()}),
        links=dump_links(spec.links),
        group_restricted=bool(group_pks),
        require_par=spec.require_par or assured["profile"] == "fapi2",
        **assured,
    )
    async with ctx.db.session() as db:
        await client_rows.add(db, row)
        await audit.record(
            db, ctx.clock, "client.created", user_id=None, actor=actor, detail=row.client_id
        )
        try:
            if group_pks:
                await db.flush()
                assert row.id is not None
                await group_rows.set_allowed(db, row.id, group_pks)
            await db.commit()
        except IntegrityError as exc:
            raise ClientIdTaken(f"client id {row.client_id!r} is already registered") from exc
    return row, secret


async def get_client(ctx: OidcContext, client_id: str) -> OAuthClient | None:
    async with ctx.db.session() as db:
        return await client_rows.by_client_id(db, client_id)


async def list_clients(ctx: OidcContext) -> list[OAuthClient]:
    async with ctx.db.session() as db:
        return await client_rows.all_clients(db)


async def delete_client(ctx: OidcContext, client_id: str, *, actor: str = "admin") -> bool:
    """Deleting a client ends everything issued to it (grants and consents cascade)."""
    return await audit.removal(
        ctx.db, ctx.clock, "client.deleted", client_rows.delete_by_client_id, client_id, actor=actor
    )


async def rotate_secret(ctx: OidcContext, client_id: str, *, actor: str = "admin") -> str | None:
    """A new secret replaces the old one at once; None when there is no such confidential
    client."""
    async with ctx.db.session() as db:
        row = await client_rows.by_client_id(db, client_id)
        if row is None or not profile.has_secret(row.type, row.auth_method):
            return None
        assert row.id is not None
        secret, secret_hash = _new_secret(ctx)
        await client_rows.set_secret_hash(db, row.id, secret_hash)
        await audit.record(
            db, ctx.clock, "client.secret_rotated", user_id=None, actor=actor, detail=client_id
        )
        await db.commit()
    return secret


async def described(ctx: OidcContext, rows: list[OAuthClient]) -> list[dict[str, Any]]:
    """``client_view`` of each, with the groups it admits (one query for all of them)."""
    restricted = [row.id for row in rows if row.group_restricted and row.id is not None]
    async with ctx.db.session() as db:
        allowed = await group_rows.allowed_by_client(db, restricted)
    return [client_view(row, allowed.get(row.id or 0, [])) for row in rows]


async def describe(ctx: OidcContext, row: OAuthClient | None) -> dict[str, Any] | None:
    return (await described(ctx, [row]))[0] if row is not None else None


def client_view(row: OAuthClient, allowed_groups: list[str] | None = None) -> dict[str, Any]:
    """What the CLI and the admin API show of a client (never its secret or hash)."""
    return {
        "client_id": row.client_id,
        "name": row.name,
        "type": row.type,
        "redirect_uris": row.redirect_uris.split(),
        "post_logout_redirect_uris": row.post_logout_redirect_uris.split(),
        "scopes": row.scopes.split(),
        "grant_types": row.grant_types.split(),
        "id_token_signed_response_alg": row.id_token_alg,
        "token_endpoint_auth_method": registered_method(row),
        "first_party": row.first_party,
        "allowed_origins": row.allowed_origins.split(),
        "backchannel_logout_uri": row.backchannel_logout_uri or None,
        "api_access": api_access(row),
        "allowed_groups": allowed_groups or [],
        "require_pushed_authorization_requests": row.require_par,
        **profile.view(row.jwks, row.jwks_uri, row.dpop_bound, row.profile),
        **dict.fromkeys(LINK_NAMES),
        **load_links(row.links),
        "created_at": row.created_at.isoformat(),
    }
