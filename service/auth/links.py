"""Single-use email links with a typed code (sign-in, email confirmation).

* The link token is 256 random bits; the store keeps only its keyed hash (HMAC-SHA256 under the
  server key), with the link's data and an ``expires_at`` checked against the clock.
* A new link of the same purpose for the same account voids the previous one (a "current"
  pointer per account); consuming checks the pointer.
* Consuming is an atomic take (GETDEL), so a link works once even when clicked twice at once.
  Looking at a link (the confirm page) never consumes it: mail scanners open links.
* The code: 8 characters from an alphabet without look-alikes (0/O, 1/I/L, U/V), hashed with
  argon2id, at most ``email_code_attempts`` wrong tries, then the link is void; same expiry.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import secrets
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError

from service.auth.context import AuthContext
from service.auth.errors import CodeInvalid, LinkInvalid, TooManyAttempts
from service.keys.keyed import new_token

Purpose = Literal["signin", "verify"]
ALPHABET = "23456789ABCDEFGHJKMNPQRSTWXYZ"
CODE_LENGTH = 8
# OWASP's argon2id baseline (19 MiB, 2 passes): a code has ~39 bits and lives 10 minutes with
# five tries, so the hash only has to resist a stolen store dump for those minutes.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


@dataclass(frozen=True)
class Link:
    purpose: Purpose
    user_id: int
    expires_at: float
    code_hash: str
    browser: str = ""  # keyed hash of the requesting browser, when the link is bound to one
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def expires(self) -> datetime:
        return datetime.fromtimestamp(self.expires_at, UTC)


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def display_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def normalize_code(typed: str) -> str:
    return "".join(ch for ch in typed.upper() if ch.isalnum())[: CODE_LENGTH + 4]


def browser_hash(ctx: AuthContext, browser_id: str) -> str:
    return ctx.keys.hash_hex("link-browser", browser_id)


def _token_hash(ctx: AuthContext, token: str) -> str:
    return ctx.keys.hash_hex("email-link", token)


def _current_key(purpose: Purpose, user_id: int) -> str:
    return f"link-current:{purpose}:{user_id}"


def _browser_key(purpose: Purpose, browser: str) -> str:
    return f"link-browser:{purpose}:{browser}"


async def issue(
    ctx: AuthContext,
    purpose: Purpose,
    user_id: int,
    *,
    browser_id: str | None = None,
    data: dict[str, Any] | None = None,
) -> tuple[str, str, Link]:
    """A new link and code for ``user_id``; any previous one of this purpose is void."""
    token, code = new_token(), new_code()
    ttl = ctx.settings.email_link_seconds
    expires = ctx.clock.now() + timedelta(seconds=ttl)
    code_hash = await asyncio.to_thread(_hasher.hash, code)
    link = Link(
        purpose=purpose,
        user_id=user_id,
        expires_at=expires.timestamp(),
        code_hash=code_hash,
        browser=browser_hash(ctx, browser_id) if browser_id else "",
        data=data or {},
    )
    hashed = _token_hash(ctx, token)
    await ctx.store.put(f"link:{hashed}", json.dumps(asdict(link)).encode(), ttl)
    await ctx.store.put(_current_key(purpose, user_id), hashed.encode(), ttl)
    if link.browser:
        await ctx.store.put(_browser_key(purpose, link.browser), hashed.encode(), ttl)
    return token, code, link


async def _load(ctx: AuthContext, hashed: str, raw: bytes | None) -> Link:
    if raw is None:
        raise LinkInvalid(detail="unknown or used link")
    link = Link(**json.loads(raw))
    if ctx.clock.now().timestamp() >= link.expires_at:
        raise LinkInvalid(detail="expired link")
    current = await ctx.store.get(_current_key(link.purpose, link.user_id))
    if current is None or not hmac.compare_digest(current, hashed.encode()):
        raise LinkInvalid(detail="a newer link replaced this one")
    return link


async def peek(ctx: AuthContext, token: str, purpose: Purpose) -> Link:
    """What a link is for, without using it up."""
    if not token or len(token) > 64:
        raise LinkInvalid(detail="malformed link")
    hashed = _token_hash(ctx, token)
    link = await _load(ctx, hashed, await ctx.store.get(f"link:{hashed}"))
    if link.purpose != purpose:
        raise LinkInvalid(detail="link of another purpose")
    return link


async def _consume_hashed(ctx: AuthContext, hashed: str, purpose: Purpose) -> Link:
    link = await _load(ctx, hashed, await ctx.store.take(f"link:{hashed}"))
    if link.purpose != purpose:
        raise LinkInvalid(detail="link of another purpose")
    await ctx.store.delete(_current_key(purpose, link.user_id))
    if link.browser:
        await ctx.store.delete(_browser_key(purpose, link.browser))
    return link


async def consume(ctx: AuthContext, token: str, purpose: Purpose) -> Link:
    """Use the link up (atomic: of two clicks, one wins)."""
    if not token or len(token) > 64:
        raise LinkInvalid(detail="malformed link")
    return await _consume_hashed(ctx, _token_hash(ctx, token), purpose)


async def consume_code(
    ctx: AuthContext,
    purpose: Purpose,
    typed: str,
    *,
    browser_id: str | None = None,
    user_id: int | None = None,
) -> Link:
    """Use the link up with its code, found through the browser that asked (sign-in) or the
    signed-in account (confirmation)."""
    if browser_id is not None:
        pointer = _browser_key(purpose, browser_hash(ctx, browser_id))
    else:
        assert user_id is not None
        pointer = _current_key(purpose, user_id)
    raw_hash = await ctx.store.get(pointer)
    if raw_hash is None:
        raise LinkInvalid(detail="no pending link for this browser or account")
    hashed = raw_hash.decode()
    link = await _load(ctx, hashed, await ctx.store.get(f"link:{hashed}"))
    # Every try is counted before the code is checked, so concurrent guesses cannot get more
    # than ``email_code_attempts`` checks between them. A try past the budget is refused
    # unchecked but voids nothing: it may be a double submit of the right code racing the one
    # that is about to use the link. The link is voided only by the last wrong code counted.
    attempts = await ctx.store.incr(f"link-attempts:{hashed}", ctx.settings.email_link_seconds)
    if attempts > ctx.settings.email_code_attempts:
        raise TooManyAttempts(detail="code attempts exhausted")
    code = normalize_code(typed)
    try:
        await asyncio.to_thread(_hasher.verify, link.code_hash, code)
    except VerificationError as exc:
        if attempts >= ctx.settings.email_code_attempts:
            await _void(ctx, hashed, link)
            raise TooManyAttempts(detail="last code attempt failed") from exc
        raise CodeInvalid(detail=f"wrong code, attempt {attempts}") from exc
    return await _consume_hashed(ctx, hashed, purpose)


async def _void(ctx: AuthContext, hashed: str, link: Link) -> None:
    await ctx.store.delete(f"link:{hashed}")
    await ctx.store.delete(_current_key(link.purpose, link.user_id))
    if link.browser:
        await ctx.store.delete(_browser_key(link.purpose, link.browser))
