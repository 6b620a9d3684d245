"""Admin API: relying apps (the same operations as ``sesame clients``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response

from service.http.admin.base import (
    NO_STORE,
    ClientId,
    GroupName,
    Origin,
    admin_router,
    found,
    no_content,
)
from service.http.oidc import Oidc
from service.http.openapi import (
    NAME_PATTERN,
    NATIVE_REDIRECT_URI_PATTERN,
    REDIRECT_URI_PATTERN,
)
from service.keys.signing import ALGORITHMS
from service.oidc import clients
from service.oidc.assurance.profile import Assurance
from service.oidc.client_changes import ClientChanges
from service.oidc.client_changes import update_client as change_client
from service.oidc.client_links import LINK_NAMES
from service.oidc.clients import (
    DEFAULT_SCOPES,
    SCOPES,
    ClientSpec,
    PublicClientSecret,
)
from service.oidc.grants import ALIASES, DEFAULT_GRANT_TYPES, DEVICE_CODE, GRANT_TYPES

router = admin_router()


def _contains(value: str) -> dict[str, Any]:
    return {
        "required": ["grant_types"],
        "properties": {"grant_types": {"contains": {"const": value}}},
    }


RedirectUri = Annotated[
    str, Field(max_length=2000, json_schema_extra={"pattern": NATIVE_REDIRECT_URI_PATTERN})
]
# Only a public client may use a private-use scheme (RFC 8252 7.1).
WEB_REDIRECTS: dict[str, Any] = {"type": "array", "items": {"pattern": REDIRECT_URI_PATTERN}}


# RFC 7591 2: an app's logo, home page, policy and terms (https; "" removes one on update).
Link = Annotated[
    str | None,
    Field(
        max_length=2000,
        json_schema_extra={"pattern": "^(https://|http://(localhost|127\\.0\\.0\\.1)[:/])|^$"},
    ),
]


def given_links(body: BaseModel) -> dict[str, str]:
    given = {name: getattr(body, name) for name in LINK_NAMES}
    return {name: value for name, value in given.items() if value is not None}


if TYPE_CHECKING:
    Scope = str
    GrantType = str
else:
    # The enums of the schema are the registries themselves (scopes, service.oidc.grants).
    Scope = Literal[SCOPES]
    GrantType = Literal[(*GRANT_TYPES, *ALIASES)]


def _all_scopes() -> list[Scope]:
    return list(DEFAULT_SCOPES)


def _code_grants() -> list[GrantType]:
    return list(DEFAULT_GRANT_TYPES)


class ClientIn(BaseModel):
    """A client registration. Its rules, also in this schema: redirect URIs are https (or
    http on a loopback host) without userinfo, fragment or wildcard, and a public client may
    use a private-use scheme in reverse domain order (RFC 8252 7.1); scopes include openid;
    the authorization_code grant (the default) needs a redirect URI; refresh_token comes with
    authorization_code or the device code grant (``device_code`` is short for its URN);
    client_credentials is for confidential clients."""

    model_config = ConfigDict(
        strict=True,
        # Metadata Sesame does not know is refused, never dropped: an operator is never told
        # "created" for a setting that was not kept.
        extra="forbid",
        json_schema_extra={
            "allOf": [
                {
                    "if": {
                        "not": {
                            "allOf": [
                                {"required": ["grant_types"]},
                                {"not": _contains("authorization_code")},
                            ]
                        }
                    },
                    "then": {
                        "required": ["redirect_uris"],
                        "properties": {"redirect_uris": {"minItems": 1}},
                    },
                },
                {
                    "if": _contains("refresh_token"),
                    "then": {
                        "anyOf": [
                            _contains(name)
                            for name in ("authorization_code", DEVICE_CODE, "device_code")
                        ]
                    },
                },
                {
                    "if": _contains("client_credentials"),
                    "then": {"properties": {"type": {"const": "confidential"}}},
                },
                {
                    "if": {
                        "not": {"required": ["type"], "properties": {"type": {"const": "public"}}}
                    },
                    "then": {
                        "properties": {
                            "redirect_uris": WEB_REDIRECTS,
                            "post_logout_redirect_uris": WEB_REDIRECTS,
                        }
                    },
                },
            ]
        },
    )

    name: str = Field(
        min_length=1,
        max_length=100,
        examples=["Example app"],
        json_schema_extra={"pattern": NAME_PATTERN},
    )
    type: Literal["confidential", "public"] = "confidential"
    redirect_uris: list[RedirectUri] = Field(
        default_factory=list, max_length=20, examples=[["https://app.example/callback"]]
    )
    post_logout_redirect_uris: list[RedirectUri] = Field(default_factory=list, max_length=20)
    scopes: list[Scope] = Field(
        default_factory=_all_scopes,
        min_length=1,
        json_schema_extra={"contains": {"const": "openid"}},
    )
    grant_types: list[GrantType] = Field(default_factory=_code_grants, min_length=1)
    id_token_signed_response_alg: Literal["RS256", "ES256", "EdDSA"] = Field(
        default="RS256", examples=list(ALGORITHMS)
    )
    first_party: bool = False
    client_id: str | None = Field(
        default=None, max_length=64, json_schema_extra={"pattern": "^[A-Za-z0-9._-]{1,64}$"}
    )
    backchannel_logout_uri: str | None = Field(
        default=None,
        max_length=2000,
        description="OpenID Connect Back-Channel Logout: where Sesame posts a logout token when "
        "a person who used this app signs out.",
        json_schema_extra={"pattern": REDIRECT_URI_PATTERN},
    )
    api_access: dict[str, list[str]] = Field(
        default_factory=dict,
        max_length=20,
        description="RFC 8707: registered APIs (by audience) and which of their scopes this "
        "client may get tokens for.",
        examples=[{"https://api.example.com": ["orders:read"]}],
    )
    allowed_origins: list[Origin] | None = Field(
        default=None,
        max_length=20,
        description="Browser origins whose scripts may call the token, userinfo and revocation "
        "endpoints (CORS). Absent: for a public client, the origins of its web redirect URIs.",
    )
    allowed_groups: list[GroupName] = Field(
        default_factory=list,
        max_length=20,
        description="Admit only members of these groups; the others get access_denied.",
    )
    require_pushed_authorization_requests: bool = Field(
        default=False, description="RFC 9126 6: authorization requests only through /par."
    )
    token_endpoint_auth_method: (
        Literal["client_secret_basic", "client_secret_post", "private_key_jwt", "none"] | None
    ) = Field(
        default=None,
        description="RFC 7591 2; absent: a secret for a confidential client, none for a public "
        "one. private_key_jwt (RFC 7523) needs jwks or jwks_uri, and the client gets no secret.",
    )
    jwks: dict[str, list[dict[str, Any]]] | None = Field(
        default=None, description="RFC 7591 2: the client's public keys, a JWK Set."
    )
    jwks_uri: str | None = Field(
        default=None, max_length=2000, description="RFC 7591 2: where its JWK Set is published."
    )
    dpop_bound_access_tokens: bool = Field(
        default=False, description="RFC 9449 5.2: its access tokens are always DPoP-bound."
    )
    profile: Literal["fapi2"] | None = Field(
        default=None,
        description="fapi2: held to the FAPI 2.0 Security Profile (private_key_jwt, PAR, DPoP, "
        "ES256 or EdDSA ID tokens, no refresh token rotation).",
    )
    logo_uri: Link = None
    client_uri: Link = None
    policy_uri: Link = None
    tos_uri: Link = None


class ClientOut(BaseModel):
    client_id: str
    name: str
    type: str
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str]
    scopes: list[str]
    grant_types: list[str]
    id_token_signed_response_alg: str
    token_endpoint_auth_method: str
    first_party: bool
    allowed_origins: list[str]
    backchannel_logout_uri: str | None
    api_access: dict[str, list[str]]
    allowed_groups: list[str]
    require_pushed_authorization_requests: bool
    jwks: dict[str, Any] | None = None
    jwks_uri: str | None = None
    dpop_bound_access_tokens: bool = False
    profile: str | None = None
    logo_uri: str | None = None
    client_uri: str | None = None
    policy_uri: str | None = None
    tos_uri: str | None = None
    created_at: str
    client_secret: str | None = Field(
        default=None, description="Only in the answer that creates it; stored hashed."
    )


@router.get("/clients", response_model=list[ClientOut])
async def list_clients(oidc: Oidc) -> list[dict[str, Any]]:
    return await clients.described(oidc, await clients.list_clients(oidc))


@router.post("/clients", response_model=ClientOut, status_code=201)
async def create_client(body: ClientIn, oidc: Oidc) -> Response:
    spec = ClientSpec(
        name=body.name,
        type=body.type,
        redirect_uris=body.redirect_uris,
        post_logout_redirect_uris=body.post_logout_redirect_uris,
        scopes=list(body.scopes),
        grant_types=list(body.grant_types),
        id_token_alg=body.id_token_signed_response_alg,
        first_party=body.first_party,
        client_id=body.client_id,
        allowed_origins=body.allowed_origins,
        backchannel_logout_uri=body.backchannel_logout_uri or "",
        api_access=body.api_access,
        links=given_links(body),
        allowed_groups=body.allowed_groups,
        require_par=body.require_pushed_authorization_requests,
        assurance=Assurance(
            auth_method=body.token_endpoint_auth_method or "",
            jwks=body.jwks,
            jwks_uri=body.jwks_uri or "",
            dpop_bound=body.dpop_bound_access_tokens,
            profile=body.profile or "",
        ),
    )
    row, secret = await clients.create_client(oidc, spec, actor="admin-api")
    view = await clients.describe(oidc, row)
    return JSONResponse(
        {**(view or {}), "client_secret": secret}, status_code=201, headers=NO_STORE
    )


@router.get("/clients/{client_id}", response_model=ClientOut)
async def show_client(client_id: ClientId, oidc: Oidc) -> dict[str, Any]:
    return found(await clients.describe(oidc, await clients.get_client(oidc, client_id)))


@router.delete("/clients/{client_id}", status_code=204)
async def delete_client(client_id: ClientId, oidc: Oidc) -> Response:
    return no_content(await clients.delete_client(oidc, client_id, actor="admin-api"))


class ClientPatch(BaseModel):
    """What may change on a registered client; a field left out stays as it is, a field given
    replaces the old value whole ("" stops back-channel logout, [] allows no origin)."""

    model_config = ConfigDict(strict=True, extra="forbid")

    api_access: dict[str, list[str]] | None = Field(default=None, max_length=20)
    allowed_origins: list[Origin] | None = Field(default=None, max_length=20)
    backchannel_logout_uri: str | None = Field(
        default=None,
        max_length=2000,
        json_schema_extra={"pattern": f"(?:{REDIRECT_URI_PATTERN})|^$"},
    )
    redirect_uris: list[RedirectUri] | None = Field(default=None, min_length=1, max_length=20)
    post_logout_redirect_uris: list[RedirectUri] | None = Field(default=None, max_length=20)
    allowed_groups: list[GroupName] | None = Field(
        default=None, max_length=20, description="Replaces the list; [] admits everyone."
    )
    jwks: dict[str, list[dict[str, Any]]] | None = Field(
        default=None, description="Replaces the client's keys (and any jwks_uri)."
    )
    jwks_uri: str | None = Field(
        default=None, max_length=2000, description="Replaces the client's keys by this URI."
    )
    logo_uri: Link = None
    client_uri: Link = None
    policy_uri: Link = None
    tos_uri: Link = None


@router.patch("/clients/{client_id}", response_model=ClientOut)
async def update_client(client_id: ClientId, body: ClientPatch, oidc: Oidc) -> dict[str, Any]:
    changes = ClientChanges(
        api_access=body.api_access,
        allowed_origins=body.allowed_origins,
        backchannel_logout_uri=body.backchannel_logout_uri,
        redirect_uris=body.redirect_uris,
        post_logout_redirect_uris=body.post_logout_redirect_uris,
        links=given_links(body) or None,
        allowed_groups=body.allowed_groups,
        jwks=body.jwks,
        jwks_uri=body.jwks_uri,
    )
    row = await change_client(oidc, client_id, changes, actor="admin-api")
    return found(await clients.describe(oidc, row))


@router.post("/clients/{client_id}/rotate-secret")
async def rotate_secret(client_id: ClientId, oidc: Oidc) -> Response:
    """A new secret for a confidential client; a public client has none (409)."""
    secret = await clients.rotate_secret(oidc, client_id, actor="admin-api")
    if secret is None:
        if await clients.get_client(oidc, client_id) is not None:
            raise PublicClientSecret()
        raise HTTPException(404)
    return JSONResponse({"client_id": client_id, "client_secret": secret}, headers=NO_STORE)
