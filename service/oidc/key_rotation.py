"""Rotating the signing keys (``sesame keys rotate``, the console's dashboard), audited."""

from __future__ import annotations

from service import audit
from service.oidc.context import OidcContext


async def rotate_keys(
    ctx: OidcContext, *, at_once: bool = False, actor: str
) -> tuple[list[str], int]:
    """Publish new keys; they sign once every instance's cache and relying apps' JWKS caches
    (both at most ``signing_key_cache_seconds``) can have seen them, or at once. Returns the
    new key ids and that delay."""
    delay = 0 if at_once else 2 * ctx.settings.signing_key_cache_seconds
    kids = await ctx.signer.rotate(delay_seconds=delay)
    await audit.record_alone(
        ctx.db, ctx.clock, "keys.rotated", user_id=None, actor=actor, detail=" ".join(kids)
    )
    return kids, delay
