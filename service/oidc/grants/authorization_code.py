"""The authorization code grant (RFC 6749 section 4.1.3, OIDC Core 3.1.3.2, RFC 7636 4.6).

The code is single use, unexpired, issued to this client for this redirect URI, and its PKCE
challenge is met. A code presented twice revokes the tokens issued for it (RFC 6749 4.1.2).

Round trips: one store claim for the code, then one statement that writes the grant and reads
the user (``issue_for_user``, conditional on the client row's version: ``service.db.clients``,
and writing nothing over a grant a replay revoked ahead of it: ``service.oidc.codes``); signing
uses keys cached in memory. When the client row turns out to have changed, the exchange carries
on from after the claim on the current row, and gives the code back if that row refuses it
(``codes.release_code``).
"""

from __future__ import annotations

from functools import partial

from service.db.grants import Forestalled
from service.db.models import OAuthClient
from service.keys.keyed import new_token
from service.oidc import codes, pkce
from service.oidc.assurance.dpop import Proof
from service.oidc.context import OidcContext
from service.oidc.errors import InvalidGrant
from service.oidc.grants.base import (
    GrantType,
    Registering,
    Response,
    admitted_groups,
    issue_for_user,
    requested_resource,
    required,
    resumable,
    revoke_family,
    tokens_for_user,
    user_grant,
)


async def exchange_code(
    ctx: OidcContext, client: OAuthClient, params: dict[str, str], proof: Proof | None
) -> Response:
    code = required(params, "code")
    required(params, "redirect_uri")
    gid = new_token()
    found, first_gid = await codes.redeem_code(ctx, code, gid)
    if found is None:
        assert first_gid is not None
        await _revoke(ctx, first_gid, client)
        raise InvalidGrant("the code was already used; the tokens issued for it are revoked")
    return await resumable(
        partial(_issue, ctx, params, proof, found, gid),
        client,
        partial(codes.release_code, ctx, code, gid, found),
    )


async def _issue(
    ctx: OidcContext,
    params: dict[str, str],
    proof: Proof | None,
    found: codes.CodeGrant,
    gid: str,
    client: OAuthClient,
) -> Response:
    """Everything after the code's claim, on ``client`` (resumed on the current row when the
    one the request was authenticated against turned out to be stale)."""
    if found.client_id != client.client_id:
        raise InvalidGrant("the code was issued to another client")
    redirect_uri = params["redirect_uri"]
    if found.redirect_uri != redirect_uri:
        raise InvalidGrant("redirect_uri differs from the one in the authorization request")
    pkce.check_verifier(found.code_challenge, params.get("code_verifier"))
    if found.dpop_jkt is not None and (proof is None or proof.jkt != found.dpop_jkt):
        raise InvalidGrant("the code is bound to a DPoP key (dpop_jkt) this request does not prove")
    requested_resource(params, found.resource)
    groups = await admitted_groups(ctx, client, found.auth.user_id, found.scope)
    now = ctx.clock.now()
    grant, refresh = user_grant(
        ctx,
        client,
        found.auth,
        found.scope,
        gid=gid,
        now=now,
        resource=found.resource,
        proof=proof,
    )
    try:
        user = await issue_for_user(ctx, grant, client)
    except Forestalled:
        # A replay came before this grant was written, and wrote it revoked.
        raise InvalidGrant(
            "the code was used twice; the tokens issued for it are revoked"
        ) from None
    response = await tokens_for_user(
        ctx,
        client,
        grant,
        user,
        found.scope,
        nonce=found.nonce,
        now=now,
        groups=groups,
        proof=proof,
        acr=found.acr,
    )
    if refresh:
        response["refresh_token"] = refresh[0]
    return response


async def _revoke(ctx: OidcContext, gid: str, client: OAuthClient) -> None:
    detail = f"authorization code used twice by {client.client_id}"
    await revoke_family(ctx, gid, user_id=None, detail=detail, ahead_for=client)


def registration_problem(client: Registering) -> str | None:
    if not client.redirect_uris:
        return "the authorization_code grant needs at least one redirect URI"
    return None


GRANT = GrantType(
    name="authorization_code",
    parameters=("code", "redirect_uri", "code_verifier", "resource"),
    handler=exchange_code,
    registration_problem=registration_problem,
    default=True,
    confirms_client=True,
)
