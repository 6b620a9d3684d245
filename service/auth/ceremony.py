"""Server-side state of a WebAuthn ceremony (WebAuthn L3 13.4.3: challenges).

A ceremony is stored under a random id with its challenge (32 random bytes), its type (sign-up,
add-passkey, sign-in), the keyed hash of the browser that asked for it and an ``expires_at``.
Finishing takes it atomically (GETDEL), so a challenge can be answered once; then type, browser
and expiry are checked. A mismatch still consumes it: a stolen ceremony id is then worthless.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from service.auth import ratelimit
from service.auth.context import AuthContext
from service.auth.errors import CeremonyExpired

CeremonyType = Literal[
    "signup", "register", "authenticate", "step-up", "api-register", "api-authenticate"
]
CHALLENGE_BYTES = 32


@dataclass(frozen=True)
class Ceremony:
    id: str
    type: CeremonyType
    challenge: bytes
    browser: str
    expires_at: datetime
    data: dict[str, Any] = field(default_factory=dict)


def _key(ceremony_id: str) -> str:
    return f"ceremony:{ceremony_id}"


async def begin(
    ctx: AuthContext,
    kind: CeremonyType,
    browser_id: str,
    data: dict[str, Any] | None = None,
    budget: ratelimit.Budget | None = None,
) -> Ceremony:
    """A new ceremony and its challenge, stored until it times out. With a ``budget`` the
    challenge is stored only if the budget has room (``RateLimited`` otherwise), in the same
    round trip."""
    timeout = ctx.settings.ceremony_timeout_seconds
    ceremony = Ceremony(
        id=secrets.token_urlsafe(24),
        type=kind,
        challenge=secrets.token_bytes(CHALLENGE_BYTES),
        browser=ctx.keys.hash_hex("browser", browser_id),
        expires_at=ctx.clock.now() + timedelta(seconds=timeout),
        data=data or {},
    )
    payload = {
        "type": ceremony.type,
        "challenge": ceremony.challenge.hex(),
        "browser": ceremony.browser,
        "expires_at": ceremony.expires_at.isoformat(),
        "data": ceremony.data,
    }
    value = json.dumps(payload).encode()
    if budget is None:
        await ctx.store.put(_key(ceremony.id), value, timeout + 60)
    else:
        await ratelimit.put_within(ctx, _key(ceremony.id), value, timeout + 60, budget)
    return ceremony


async def take(ctx: AuthContext, ceremony_id: str, kind: CeremonyType, browser_id: str) -> Ceremony:
    if not ceremony_id or len(ceremony_id) > 64:
        raise CeremonyExpired(detail="missing ceremony id")
    raw = await ctx.store.take(_key(ceremony_id))
    if raw is None:
        raise CeremonyExpired(detail="unknown or used ceremony")
    payload = json.loads(raw)
    ceremony = Ceremony(
        id=ceremony_id,
        type=payload["type"],
        challenge=bytes.fromhex(payload["challenge"]),
        browser=payload["browser"],
        expires_at=datetime.fromisoformat(payload["expires_at"]),
        data=payload["data"],
    )
    if ceremony.type != kind:
        raise CeremonyExpired(detail=f"ceremony type {ceremony.type} used for {kind}")
    if not secrets.compare_digest(ceremony.browser, ctx.keys.hash_hex("browser", browser_id)):
        raise CeremonyExpired(detail="ceremony finished by another browser")
    if ctx.clock.now() >= ceremony.expires_at:
        raise CeremonyExpired(detail="ceremony expired")
    return ceremony
