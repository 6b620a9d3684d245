"""The device authorization grant (RFC 8628): a TV, a CLI or a device without a browser shows a
short user code; the person types it on Sesame's ``/device`` page in any browser, signs in and
approves; the device polls the token endpoint meanwhile.

Everything lives in the ephemeral store, each key a keyed hash of the secret it stands for:

* ``device:<hash of device_code>``: the request (client, scope, expiry, interval), written once;
  kept a little past its expiry so that a late poll hears ``expired_token``.
* ``usercode:<hash of user_code>``: which request the user code belongs to. The decision
  ``take``s it, so of two concurrent approvals only one is recorded, and a code decides once.
* ``devicedecision:<hash>``: the person's decision; the poll that finds it ``claim``s it, so
  tokens are issued once (a second claim sees the tombstone: ``invalid_grant``).
* ``devicepoll:<hash>``: the last poll and the interval, for ``slow_down`` (RFC 8628 3.5).

The user code (RFC 8628 6.1) is 8 characters from 20 consonants without look-alikes (no vowels,
so no words, no 0/O or 1/I), shown as ``BCDF-GHJK``: 20^8 is about 2.6e10, and the hosted page
limits wrong attempts per browser. Typing is forgiving: case, spaces and dashes do not matter.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from service.keys.keyed import new_token
from service.oidc.client_auth import authenticate_client, credentials_of
from service.oidc.context import OidcContext
from service.oidc.errors import (
    AuthorizationPending,
    ExpiredToken,
    InvalidGrant,
    InvalidScope,
    SlowDown,
    UnauthorizedClient,
)
from service.oidc.model import Authentication
from service.oidc.params import form_params
from service.oidc.presented import Presented

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"  # RFC 8628 3.4
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
USER_CODE_LENGTH = 8
SLOW_DOWN_STEP = 5  # RFC 8628 3.5: "the interval MUST be increased by 5 seconds"
LATE_POLL_SECONDS = 300  # how long past expiry a poll still hears expired_token


@dataclass(frozen=True)
class DeviceRequest:
    """What a device asked for, as the approval page shows it and the poll checks it."""

    client_id: str
    client_name: str
    scope: tuple[str, ...]
    user_code: str
    expires_at: datetime
    interval: int


@dataclass(frozen=True)
class Decision:
    approved: bool
    auth: Authentication | None


def new_user_code() -> str:
    chars = "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(USER_CODE_LENGTH))
    return f"{chars[:4]}-{chars[4:]}"


def normalize_user_code(typed: str) -> str | None:
    """The code as issued, from what a person typed; None if it cannot be one."""
    chars = "".join(ch for ch in typed.upper() if ch not in " -")
    if len(chars) != USER_CODE_LENGTH or any(ch not in USER_CODE_ALPHABET for ch in chars):
        return None
    return f"{chars[:4]}-{chars[4:]}"


def _key(ctx: OidcContext, kind: str, secret: str) -> str:
    return f"{kind}:" + ctx.keys.hash_hex(kind, secret)


def _device_key(ctx: OidcContext, device_code: str) -> str:
    return _key(ctx, "device", device_code)


def _decision_key(device_key: str) -> str:
    return "devicedecision:" + device_key.partition(":")[2]


def _poll_key(device_key: str) -> str:
    return "devicepoll:" + device_key.partition(":")[2]


def _encode(request: DeviceRequest) -> bytes:
    return json.dumps(
        {
            "client_id": request.client_id,
            "client_name": request.client_name,
            "scope": list(request.scope),
            "user_code": request.user_code,
            "expires_at": request.expires_at.timestamp(),
            "interval": request.interval,
        }
    ).encode()


def _decode(raw: bytes) -> DeviceRequest:
    data = json.loads(raw)
    return DeviceRequest(
        client_id=data["client_id"],
        client_name=data["client_name"],
        scope=tuple(data["scope"]),
        user_code=data["user_code"],
        expires_at=datetime.fromtimestamp(data["expires_at"], UTC),
        interval=int(data["interval"]),
    )


async def begin(
    ctx: OidcContext, client_id: str, client_name: str, scope: tuple[str, ...]
) -> dict[str, Any]:
    """RFC 8628 3.2: a device code for the device, a user code for the person."""
    settings = ctx.settings
    lifetime = settings.device_code_seconds
    device_code, user_code = new_token(), new_user_code()
    request = DeviceRequest(
        client_id=client_id,
        client_name=client_name,
        scope=scope,
        user_code=user_code,
        expires_at=ctx.clock.now() + timedelta(seconds=lifetime),
        interval=settings.device_poll_seconds,
    )
    device_key = _device_key(ctx, device_code)
    await ctx.store.put(device_key, _encode(request), lifetime + LATE_POLL_SECONDS)
    await ctx.store.put(_key(ctx, "usercode", user_code), device_key.encode(), lifetime)
    page = f"{settings.issuer}/device"
    return {
        "device_code": device_code,
        "user_code": user_code,
        "verification_uri": page,
        "verification_uri_complete": f"{page}?user_code={user_code}",
        "expires_in": lifetime,
        "interval": request.interval,
    }


async def device_authorization(
    ctx: OidcContext, pairs: Iterable[tuple[str, str]], presented: Presented
) -> dict[str, Any]:
    """The device authorization endpoint (RFC 8628 3.1-3.2): the client authenticates as at
    the token endpoint and must hold the device code grant; ``scope`` keeps what the client
    registered (``openid`` when absent), unknown scopes dropped as at ``/authorize``."""
    params = form_params(pairs)
    client = await authenticate_client(ctx, credentials_of(params, presented))
    if GRANT_TYPE not in client.grant_types.split():
        raise UnauthorizedClient("this client is not registered for the device code grant")
    asked = (params.get("scope") or "openid").split()
    scope = tuple(s for s in client.scopes.split() if s in asked)
    if not scope:
        raise InvalidScope("none of the scopes asked for is registered for this client")
    return await begin(ctx, client.client_id, client.name, scope)


async def _by_user_code(
    ctx: OidcContext, user_code: str, *, take: bool
) -> tuple[str, DeviceRequest] | None:
    """The device key and request a user code stands for while it is unexpired; ``take``
    consumes the user code atomically (of two concurrent decisions, one gets it)."""
    code = normalize_user_code(user_code)
    if code is None:
        return None
    key = _key(ctx, "usercode", code)
    device_key = await (ctx.store.take(key) if take else ctx.store.get(key))
    raw = await ctx.store.get(device_key.decode()) if device_key is not None else None
    if device_key is None or raw is None:
        return None
    request = _decode(raw)
    return (device_key.decode(), request) if ctx.clock.now() < request.expires_at else None


async def pending_request(ctx: OidcContext, user_code: str) -> DeviceRequest | None:
    """The request a typed user code stands for, while it is undecided and unexpired."""
    found = await _by_user_code(ctx, user_code, take=False)
    return found[1] if found else None


async def decide(ctx: OidcContext, user_code: str, auth: Authentication | None) -> bool:
    """Record the person's decision (``auth`` None: denied). Returns False when the code was
    already decided, expired or never issued: nothing is recorded then."""
    found = await _by_user_code(ctx, user_code, take=True)
    if found is None:
        return False
    device_key, request = found
    # At least a second: the request may have less than one left, and a TTL of 0 is an error.
    remaining = max(1, int((request.expires_at - ctx.clock.now()).total_seconds()))
    decision = {"approved": auth is not None, **(auth.to_dict() if auth else {})}
    await ctx.store.put(_decision_key(device_key), json.dumps(decision).encode(), remaining)
    return True


async def poll(
    ctx: OidcContext, device_code: str, client_id: str
) -> tuple[DeviceRequest, Decision]:
    """RFC 8628 3.4-3.5: the request and the person's decision, consumed (tokens are issued
    once). While there is none: ``authorization_pending``, or ``slow_down``; after the
    lifetime, ``expired_token``."""
    if len(device_code) > 128:
        raise InvalidGrant("the device code is invalid")
    device_key = _device_key(ctx, device_code)
    raw = await ctx.store.get(device_key)
    if raw is None:
        raise InvalidGrant("the device code is invalid")
    request = _decode(raw)
    if request.client_id != client_id:
        raise InvalidGrant("the device code was issued to another client")
    now = ctx.clock.now()
    if now >= request.expires_at:
        raise ExpiredToken("the device code expired; start again")
    found = await ctx.store.claim(_decision_key(device_key), b"used", LATE_POLL_SECONDS)
    if found is not None:
        if not found.startswith(b"{"):
            raise InvalidGrant("the device code was already used")
        return request, _decision(json.loads(found))
    await _pace(ctx, device_key, request, now)
    raise AuthorizationPending("the user has not approved the request yet")


def _decision(data: dict[str, Any]) -> Decision:
    if not data["approved"]:
        return Decision(False, None)
    return Decision(True, Authentication.from_dict(data))


async def _pace(ctx: OidcContext, device_key: str, request: DeviceRequest, now: datetime) -> None:
    """Raise ``slow_down`` for a poll that came before the interval was over (the interval
    grows by 5 seconds for the rest of this request)."""
    key = _poll_key(device_key)
    last = await ctx.store.get(key)
    interval = request.interval
    too_soon = False
    if last is not None:
        previous = json.loads(last)
        interval = int(previous["interval"])
        too_soon = now.timestamp() - float(previous["at"]) < interval
        interval += SLOW_DOWN_STEP if too_soon else 0
    ttl = max(1, int((request.expires_at - now).total_seconds()))
    await ctx.store.put(
        key, json.dumps({"at": now.timestamp(), "interval": interval}).encode(), ttl
    )
    if too_soon:
        raise SlowDown("polling too fast: wait the interval, which grew by 5 seconds")
