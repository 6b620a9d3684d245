"""The UserInfo endpoint (OIDC Core 5.3): GET or POST with the access token as a bearer
(RFC 6750 2.1; on POST also as the form field ``access_token``, 2.2), answering the claims of the
token's scopes (``groups`` as the person's groups are now, not as they were at sign-in). A
DPoP-bound token comes with the ``DPoP`` scheme and a proof (RFC 9449 7.1)."""

from __future__ import annotations

from typing import Any

from service.codec import bearer_credential
from service.oidc.access import check_access_token
from service.oidc.assurance import dpop
from service.oidc.claims import user_claims
from service.oidc.context import OidcContext
from service.oidc.errors import InvalidRequest, InvalidToken
from service.oidc.grants.base import admitted_groups


def presented_token(authorization: str | None, form_token: str | None) -> tuple[str, str]:
    """The access token and its scheme: ``Bearer`` (header or form) or ``DPoP`` (header)."""
    header = authorization or ""
    scheme = "DPoP" if header[:5].lower() == "dpop " else "Bearer"
    from_header = header[5:].strip() if scheme == "DPoP" else bearer_credential(authorization)
    if from_header and form_token:
        raise InvalidRequest("send the access token once (header or body), not twice")
    token = from_header or form_token
    if not token:
        raise InvalidToken("an access token is required (Authorization: Bearer ...)")
    return token, scheme


async def userinfo(
    ctx: OidcContext,
    token: str,
    scheme: str = "Bearer",
    proofs: tuple[str, ...] = (),
    method: str = "GET",
) -> dict[str, Any]:
    standing = await check_access_token(ctx, token)
    url = f"{ctx.settings.issuer}/userinfo"
    await dpop.check_presented(ctx, standing.claims, token, scheme, proofs, method=method, url=url)
    if standing.user is None:
        raise InvalidToken("this access token does not represent a user")
    if "openid" not in standing.claims.get("scope", "").split():
        raise InvalidToken("this access token was not issued with the openid scope")
    scope = tuple(standing.claims["scope"].split())
    assert standing.user.id is not None
    # Someone taken out of the groups an app admits is refused here at once.
    groups = await admitted_groups(ctx, standing.client, standing.user.id, scope, InvalidToken)
    return user_claims(standing.user, scope, groups)
