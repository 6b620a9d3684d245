"""The device code grant (RFC 8628 section 3.4-3.5): the device polls with its device code
until the person has decided on the ``/device`` page (``service.oidc.device``).

Answers while waiting: ``authorization_pending``, or ``slow_down`` when polled faster than the
interval; then ``access_denied`` or the tokens, once (the decision is claimed atomically), or
``expired_token`` after the code's lifetime. Tokens are those of the code flow: an ID token
when ``openid`` was granted, a refresh token when the client registered that grant.
"""

from __future__ import annotations

from functools import partial

from service.db.models import OAuthClient
from service.keys.keyed import new_token
from service.oidc import device
from service.oidc.assurance.dpop import Proof
from service.oidc.context import OidcContext
from service.oidc.errors import AccessDenied
from service.oidc.grants.base import (
    GrantType,
    Registering,
    Response,
    admitted_groups,
    issue_for_user,
    required,
    resumable,
    tokens_for_user,
    user_grant,
)
from service.oidc.model import Authentication


async def poll_device(
    ctx: OidcContext, client: OAuthClient, params: dict[str, str], proof: Proof | None
) -> Response:
    request, outcome = await device.poll(ctx, required(params, "device_code"), client.client_id)
    if not outcome.approved or outcome.auth is None:
        raise AccessDenied("the user denied the request")
    return await resumable(partial(_issue, ctx, request, outcome.auth, proof), client)


async def _issue(
    ctx: OidcContext,
    request: device.DeviceRequest,
    auth: Authentication,
    proof: Proof | None,
    client: OAuthClient,
) -> Response:
    """Everything after the decision's claim, on ``client`` (``resumable``)."""
    groups = await admitted_groups(ctx, client, auth.user_id, request.scope, AccessDenied)
    now = ctx.clock.now()
    grant, refresh = user_grant(
        ctx, client, auth, request.scope, gid=new_token(), now=now, proof=proof
    )
    user = await issue_for_user(ctx, grant, client)
    response = await tokens_for_user(
        ctx, client, grant, user, request.scope, nonce=None, now=now, groups=groups, proof=proof
    )
    if refresh:
        response["refresh_token"] = refresh[0]
    return response


def registration_problem(_client: Registering) -> str | None:
    """Any client may use it: a device needs no redirect URI, and may be public (a CLI) or
    confidential (a server-side device gateway)."""
    return None


GRANT = GrantType(
    name=device.GRANT_TYPE,
    parameters=("device_code",),
    handler=poll_device,
    registration_problem=registration_problem,
    alias="device_code",
)
