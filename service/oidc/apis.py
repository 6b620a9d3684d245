"""APIs as resources (RFC 8707 Resource Indicators, RFC 9068 JWT access tokens).

An operator registers an app's API by its audience (an absolute URI, e.g.
``https://api.example.com``) and its scopes (``orders:read``); a client is allowed some of an
API's scopes (``OAuthClient.api_access``). An authorization or token request names the API with
``resource``; the access token then carries ``aud`` = that audience and only the API scopes both
asked for and allowed, besides the OpenID scopes. An unknown API, or one the client may not
use, is ``invalid_target`` (RFC 8707 2). The API checks tokens offline (signature, ``iss``,
``aud``, ``typ`` ``at+jwt``, ``scope``) or at ``/introspect`` with its own id and secret, where
a token for another audience is inactive.
"""

from __future__ import annotations

import hmac
import json
import re
import secrets
from typing import Any

from sqlalchemy.exc import IntegrityError

from service import audit
from service.db import apis as api_rows
from service.db import hot
from service.db.models import Api, OAuthClient, shown
from service.oidc.context import OidcContext
from service.oidc.errors import InvalidTarget
from service.problems import Problem
from service.text import split_url

API_ID_PREFIX = "api_"
API_SCOPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9:._/-]{0,63}")
RESERVED_SCOPES = {"openid", "profile", "email", "groups", "offline_access"}
MAX_API_SCOPES = 50


class ApiRejected(Problem):
    error = "invalid_api"


class ApiAudienceTaken(ApiRejected):
    error = "audience_taken"
    status_code = 409


def audience_problem(audience: str) -> str | None:
    """RFC 8707 2: an absolute URI without a fragment; https, or http on a loopback host."""
    parts = split_url(audience) if 0 < len(audience) <= 300 else None
    if parts is None or not parts.hostname or parts.fragment or "#" in audience:
        return "must be an absolute URI without a fragment, e.g. https://api.example.com"
    local = parts.scheme == "http" and parts.hostname in {"localhost", "127.0.0.1", "::1"}
    if parts.scheme != "https" and not local:
        return "must use https (or http on a loopback host)"
    if any(ch.isspace() for ch in audience):
        return "must not contain spaces"
    return None


def _check(name: str, audience: str, scopes: list[str]) -> None:
    if not name.strip() or len(name) > 100:
        raise ApiRejected("name: 1 to 100 characters")
    problem = audience_problem(audience)
    if problem:
        raise ApiRejected(f"audience {problem}")
    if not scopes or len(scopes) > MAX_API_SCOPES:
        raise ApiRejected(f"scopes: 1 to {MAX_API_SCOPES}")
    for scope in scopes:
        if not API_SCOPE.fullmatch(scope) or scope in RESERVED_SCOPES:
            raise ApiRejected(
                f"scope {scope!r}: letters, digits and : . _ / -, at most 64, not an OpenID scope"
            )


async def create_api(
    ctx: OidcContext, name: str, audience: str, scopes: list[str], *, actor: str = "admin"
) -> tuple[Api, str]:
    """Register an API; returns it and its introspection secret, shown only now."""
    _check(name, audience, scopes)
    secret = secrets.token_urlsafe(32)
    row = Api(
        api_id=f"{API_ID_PREFIX}{secrets.token_hex(8)}",
        name=name.strip(),
        audience=audience,
        scopes=" ".join(dict.fromkeys(scopes)),
        secret_hash=ctx.keys.hash("api-secret", secret),
        created_at=ctx.clock.now(),
    )
    async with ctx.db.session() as db:
        await api_rows.add(db, row)
        await audit.record(db, ctx.clock, "api.created", user_id=None, actor=actor, detail=audience)
        try:
            await db.commit()
        except IntegrityError as exc:
            raise ApiAudienceTaken(f"an API with audience {audience!r} exists") from exc
    return row, secret


async def list_apis(ctx: OidcContext) -> list[Api]:
    async with ctx.db.session() as db:
        return await api_rows.all_apis(db)


async def get_api(ctx: OidcContext, api_id: str) -> Api | None:
    async with ctx.db.session() as db:
        return await api_rows.by_api_id(db, api_id)


async def delete_api(ctx: OidcContext, api_id: str, *, actor: str = "admin") -> bool:
    return await audit.removal(
        ctx.db, ctx.clock, "api.deleted", api_rows.delete_by_api_id, api_id, actor=actor
    )


def api_view(row: Api) -> dict[str, Any]:
    return shown(row, "api_id", "name", "audience", "scopes", "created_at", lists=("scopes",))


async def authenticate_api(ctx: OidcContext, api_id: str, secret: str) -> Api | None:
    """An API introspecting with its own credentials (RFC 7662 2.1)."""
    if not api_id.startswith(API_ID_PREFIX) or len(api_id) > 40:
        return None
    api = await get_api(ctx, api_id)
    if api is None or not hmac.compare_digest(ctx.keys.hash("api-secret", secret), api.secret_hash):
        return None
    return api


# -- what a client may ask for ----------------------------------------------------------------


def api_access(client: OAuthClient) -> dict[str, list[str]]:
    data = json.loads(client.api_access or "{}")
    return {str(k): [str(s) for s in v] for k, v in data.items()}


async def check_api_access(ctx: OidcContext, access: dict[str, list[str]]) -> str | None:
    """Why a client may not be given this API access, or None: every audience a registered
    API, every scope one of that API's."""
    async with ctx.db.session() as db:
        for audience, scopes in access.items():
            api = await api_rows.by_audience(db, audience)
            if api is None:
                return f"API access: no API with audience {audience!r}"
            unknown = set(scopes) - set(api.scopes.split())
            if unknown or not scopes:
                return f"API access: {audience} has the scopes {api.scopes}"
    return None


async def target(
    ctx: OidcContext, client: OAuthClient, resource: str | None, *, kept: bool = False
) -> Api | None:
    """The API a request names with ``resource`` (RFC 8707 2), which the client must be
    allowed; None when it names none. ``kept``: for a caller whose write is conditional on the
    API row it is given (``grants.insert_for_client``), the row may come from ``ctx.apis``
    without a read. An API not found is never kept, so its absence is always read now."""
    if resource is None:
        return None
    if audience_problem(resource):
        raise InvalidTarget("resource must be an absolute URI without a fragment")
    allowed = api_access(client)
    api = ctx.apis.get(resource) if kept else None
    if api is None:
        async with hot.connect(ctx.db) as conn:
            api = await api_rows.find(conn, resource)
        if api is not None and kept:
            ctx.apis.put(api)
    if api is None or resource not in allowed:
        raise InvalidTarget("this client may not ask for tokens for that resource")
    return api


def api_scopes(api: Api, client: OAuthClient, asked: list[str]) -> tuple[str, ...]:
    """The scopes of ``api`` asked for and allowed to the client, in the API's order."""
    allowed = set(api_access(client).get(api.audience, []))
    return tuple(s for s in api.scopes.split() if s in asked and s in allowed)
