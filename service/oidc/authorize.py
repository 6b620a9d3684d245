"""The authorization endpoint (OIDC Core 3.1.2, RFC 6749 4.1.1), as two steps.

``validate_authorization_request`` checks, in this order:

1. ``client_id`` names a registered client, and ``redirect_uri`` is one of its registered URIs
   (exact match). Until both hold, every error is shown to the person and never redirected
   (RFC 6749 4.1.2.1), so Sesame is not an open redirector - ``prompt=none`` included.
2. Then, errors go to the redirect URI with ``state`` and ``iss``: repeated parameters;
   ``request``/``request_uri`` (not supported, OIDC Core 6); ``response_type`` must be ``code``
   (no implicit or hybrid flow, RFC 9700 2.1.2); ``response_mode`` only ``query``; the client
   must hold the authorization_code grant; ``scope`` must include ``openid`` (other scopes are
   kept only when registered for the client, unknown ones dropped); PKCE (``pkce.py``);
   ``prompt``; ``max_age``; ``id_token_hint`` must be a token Sesame signed.
   ``display``, ``ui_locales``, ``claims_locales``, ``acr_values``, ``claims`` and unknown
   parameters are accepted and ignored (OIDC Core 3.1.2.1, 5.5).

``begin_authorization`` then either answers at once (a code, or for ``prompt=none`` an error) or
parks the request as an interaction until the person has signed in or consented; the hosted
pages call ``resume_authorization`` afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from service.db.models import OAuthClient
from service.keys.signing import TokenInvalid
from service.oidc import codes, consent, interactions, pkce
from service.oidc.clients import get_client, redirect_uri_matches
from service.oidc.context import OidcContext
from service.oidc.errors import (
    AccessDenied,
    BadAuthorizationRequest,
    ConsentRequired,
    ErrorRedirect,
    InvalidRequest,
    InvalidScope,
    LoginRequired,
    OAuthError,
    RequestNotSupported,
    RequestUriNotSupported,
    UnauthorizedClient,
    UnsupportedResponseType,
)
from service.oidc.model import Authentication, AuthorizationRequest
from service.oidc.params import single_values

PROMPTS = {"none", "login", "consent", "select_account"}
MAX_STATE = 2048
MAX_NONCE = 512
MAX_HINT = 320


async def _client_and_redirect(
    ctx: OidcContext, params: dict[str, str], repeated: set[str]
) -> tuple[OAuthClient, str]:
    if "client_id" in repeated or "redirect_uri" in repeated:
        raise BadAuthorizationRequest("client_id and redirect_uri may each be given only once")
    client_id = params.get("client_id")
    if not client_id:
        raise BadAuthorizationRequest("The request does not say which app is asking (client_id).")
    client = await get_client(ctx, client_id) if len(client_id) <= 64 else None
    if client is None:
        raise BadAuthorizationRequest("The app that sent you here is not registered with Sesame.")
    redirect_uri = params.get("redirect_uri")
    if not redirect_uri:
        raise BadAuthorizationRequest("The request has no redirect_uri; the app must send one.")
    if not redirect_uri_matches(client.redirect_uris.split(), redirect_uri):
        raise BadAuthorizationRequest(
            "The app asked to return to an address it has not registered; Sesame will not send "
            "you there."
        )
    return client, redirect_uri


def _scope(client: OAuthClient, value: str | None) -> tuple[str, ...]:
    asked = (value or "").split()
    if "openid" not in asked:
        raise InvalidScope("scope must include openid")
    allowed = client.scopes.split()
    return tuple(s for s in allowed if s in asked)


def _prompt(value: str | None) -> tuple[str, ...]:
    prompt = tuple(dict.fromkeys((value or "").split()))
    if set(prompt) - PROMPTS:
        raise InvalidRequest(f"prompt must be made of {', '.join(sorted(PROMPTS))}")
    if "none" in prompt and len(prompt) > 1:
        raise InvalidRequest("prompt=none cannot be combined with other values")
    return prompt


def _max_age(value: str | None) -> int | None:
    if value is None:
        return None
    if not value.isdigit() or len(value) > 9:
        raise InvalidRequest("max_age must be a non-negative integer (seconds)")
    return int(value)


def _limited(params: dict[str, str], name: str, limit: int) -> str | None:
    value = params.get(name)
    if value is not None and len(value) > limit:
        raise InvalidRequest(f"{name} is longer than {limit} characters")
    return value


async def _hint_subject(ctx: OidcContext, client: OAuthClient, hint: str | None) -> str | None:
    """OIDC Core 3.1.2.1: an ID token Sesame issued earlier (expired is fine) names the user the
    client expects."""
    if hint is None:
        return None
    try:
        claims = await ctx.signer.verify(hint)
    except TokenInvalid as exc:
        raise InvalidRequest("id_token_hint is not an ID token issued by Sesame") from exc
    aud = claims.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    if claims.get("iss") != ctx.settings.issuer or client.client_id not in audiences:
        raise InvalidRequest("id_token_hint was not issued by Sesame to this client")
    sub = claims.get("sub")
    if not isinstance(sub, str):
        raise InvalidRequest("id_token_hint has no subject")
    return sub


async def validate_authorization_request(
    ctx: OidcContext, pairs: Iterable[tuple[str, str]]
) -> AuthorizationRequest:
    params, repeated = single_values(pairs)
    client, redirect_uri = await _client_and_redirect(ctx, params, repeated)
    state = params.get("state") if "state" not in repeated else None
    try:
        return await _validate(ctx, client, redirect_uri, params, repeated)
    except OAuthError as exc:
        raise ErrorRedirect(
            exc, redirect_uri, state if state and len(state) <= MAX_STATE else None
        ) from exc


async def _validate(
    ctx: OidcContext,
    client: OAuthClient,
    redirect_uri: str,
    params: dict[str, str],
    repeated: set[str],
) -> AuthorizationRequest:
    if repeated:
        raise InvalidRequest(f"parameters given more than once: {', '.join(sorted(repeated))}")
    if "request" in params:
        raise RequestNotSupported("request objects are not supported")
    if "request_uri" in params:
        raise RequestUriNotSupported("request_uri is not supported")
    response_type = params.get("response_type")
    if response_type is None:
        raise InvalidRequest("response_type is required")
    if response_type != "code":
        raise UnsupportedResponseType("only response_type=code is supported")
    if params.get("response_mode", "query") != "query":
        raise InvalidRequest("only response_mode=query is supported")
    if "authorization_code" not in client.grant_types.split():
        raise UnauthorizedClient("this client may not use the authorization code flow")
    state = _limited(params, "state", MAX_STATE)
    challenge = pkce.check_challenge(
        params.get("code_challenge"),
        params.get("code_challenge_method"),
        required=client.type == "public",
    )
    return AuthorizationRequest(
        client_id=client.client_id,
        client_name=client.name,
        first_party=client.first_party,
        id_token_alg=client.id_token_alg,
        redirect_uri=redirect_uri,
        scope=_scope(client, params.get("scope")),
        state=state,
        nonce=_limited(params, "nonce", MAX_NONCE),
        code_challenge=challenge,
        prompt=_prompt(params.get("prompt")),
        max_age=_max_age(params.get("max_age")),
        login_hint=_limited(params, "login_hint", MAX_HINT),
        hint_subject=await _hint_subject(ctx, client, params.get("id_token_hint")),
    )


Need = Literal["login", "consent"] | None


async def _need(
    ctx: OidcContext,
    request: AuthorizationRequest,
    auth: Authentication | None,
    *,
    started_at: datetime,
    consented: bool,
) -> Need:
    """What still stands between this request and a code."""
    if auth is None:
        return "login"
    if request.hint_subject is not None and request.hint_subject != auth.subject:
        return "login"
    # A sign-in completed during this interaction satisfies prompt=login and any max_age.
    fresh = auth.auth_time >= started_at
    if not fresh and ({"login", "select_account"} & set(request.prompt)):
        return "login"
    if (
        not fresh
        and request.max_age is not None
        and ctx.clock.now() > auth.auth_time + timedelta(seconds=request.max_age)
    ):
        return "login"
    if request.first_party or consented:
        return None
    if "consent" in request.prompt or not await consent.covers(ctx, auth, request):
        return "consent"
    return None


@dataclass(frozen=True)
class Step:
    """What the hosted pages do next: sign in, ask consent, or go back to the app."""

    kind: Literal["login", "consent", "done"]
    request: AuthorizationRequest
    interaction: str = ""
    location: str = ""


async def begin_authorization(
    ctx: OidcContext,
    request: AuthorizationRequest,
    auth: Authentication | None,
    browser_id: str,
) -> Step:
    now = ctx.clock.now()
    need = await _need(ctx, request, auth, started_at=now, consented=False)
    if "none" in request.prompt and need is not None:
        # OIDC Core 3.1.2.6: no UI may be shown; tell the client what would have been needed.
        error: OAuthError = (
            LoginRequired("the user is not signed in (or must sign in again)")
            if need == "login"
            else ConsentRequired("the user has not consented to this client")
        )
        raise ErrorRedirect(error, request.redirect_uri, request.state)
    if need is None:
        assert auth is not None
        return Step("done", request, location=await codes.issue_code(ctx, request, auth))
    uid = await interactions.park(ctx, request, browser_id, started_at=now)
    return Step(need, request, interaction=uid)


async def resume_authorization(
    ctx: OidcContext,
    uid: str,
    auth: Authentication | None,
    browser_id: str,
    *,
    consent_given: bool | None = None,
) -> Step:
    """Continue a parked request after sign-in (or with the person's consent decision)."""
    parked = await interactions.load(ctx, uid, browser_id)
    request = parked.request
    if consent_given is False:
        await interactions.take(ctx, uid, browser_id)
        raise ErrorRedirect(AccessDenied("the user declined"), request.redirect_uri, request.state)
    consented = parked.consented
    if consent_given and auth is not None:
        await consent.remember(ctx, auth, request)
        consented = True
        await interactions.mark_consented(ctx, uid, parked)
    need = await _need(ctx, request, auth, started_at=parked.started_at, consented=consented)
    if need is not None:
        return Step(need, request, interaction=uid)
    await interactions.take(ctx, uid, browser_id)
    assert auth is not None
    return Step("done", request, location=await codes.issue_code(ctx, request, auth))


async def abandon_authorization(ctx: OidcContext, uid: str, browser_id: str) -> ErrorRedirect:
    """The person chose to go back to the app without signing in."""
    await interactions.load(ctx, uid, browser_id)
    parked = await interactions.take(ctx, uid, browser_id)
    request = parked.request
    return ErrorRedirect(
        AccessDenied("the user cancelled the sign-in"), request.redirect_uri, request.state
    )
