"""Tables. Alembic reads ``SQLModel.metadata`` from here (migrations/env.py)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    false,
    text,
)
from sqlmodel import Field, SQLModel

from service.db.types import UTCDateTime

MAX_CREDENTIAL_ID_BYTES = 1023  # WebAuthn L3 5.1: credential IDs are at most 1023 bytes


def _fk_user() -> Column[int]:
    return Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)


def shown(row: SQLModel, *names: str, lists: tuple[str, ...] = ()) -> dict[str, Any]:
    """Columns of a row as the CLI and the admin API show them: ``lists`` (stored
    space-separated) as lists, datetimes in ISO 8601."""
    view: dict[str, Any] = {}
    for name in names:
        value = getattr(row, name)
        if name in lists:
            value = value.split()
        elif isinstance(value, datetime):
            value = value.isoformat()
        view[name] = value
    return view


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    public_id: uuid.UUID = Field(sa_column=Column(Uuid, unique=True, nullable=False))
    username: str = Field(sa_column=Column(String(32), nullable=False))
    # Lower-cased copies carry the uniqueness, so "Alice" and "alice" cannot both exist.
    username_key: str = Field(sa_column=Column(String(32), unique=True, nullable=False))
    email: str = Field(sa_column=Column(String(320), nullable=False))
    email_key: str = Field(sa_column=Column(String(320), unique=True, nullable=False))
    name: str = Field(default="", sa_column=Column(String(100), nullable=False, default=""))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    disabled_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    # When the person proved they read mail at ``email`` (link or code); None until then.
    email_verified_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    # Since when the person administers Sesame (the console at /admin); None for everyone else.
    admin_since: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class PasskeyCredential(SQLModel, table=True):
    __tablename__ = "passkey_credentials"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=_fk_user())
    credential_id: bytes = Field(
        sa_column=Column(LargeBinary(MAX_CREDENTIAL_ID_BYTES), unique=True, nullable=False)
    )
    public_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    sign_count: int = Field(sa_column=Column(BigInteger, nullable=False, default=0))
    transports: str = Field(default="", sa_column=Column(String(200), nullable=False))
    aaguid: str = Field(sa_column=Column(String(36), nullable=False))
    backup_eligible: bool = Field(nullable=False)
    backup_state: bool = Field(nullable=False)
    name: str = Field(sa_column=Column(String(64), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    last_used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    # Set when a validly signed assertion came with a sign counter that did not increase.
    counter_regressed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class Session(SQLModel, table=True):
    __tablename__ = "sessions"
    __table_args__ = (UniqueConstraint("sid", name="uq_sessions_sid"),)

    id: int | None = Field(default=None, primary_key=True)
    token_hash: bytes = Field(sa_column=Column(LargeBinary(32), unique=True, nullable=False))
    user_id: int = Field(sa_column=_fk_user())
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    # Indexed for housekeeping (service.lifecycle): sessions past their idle or absolute
    # lifetime are found by a range scan.
    last_seen_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, index=True))
    auth_time: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    amr: str = Field(sa_column=Column(String(64), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, index=True))
    user_agent: str = Field(default="", sa_column=Column(String(255), nullable=False))
    # The browser session's public id (OIDC ``sid``): kept when the same user signs in again in
    # this browser (the cookie value still rotates), new for a new user. Grants issued to apps
    # carry it, so ending the session ends their refresh tokens.
    sid: str = Field(sa_column=Column(String(43), nullable=False))
    # The last passkey check in this session (sign-in or step-up). Sensitive actions need a
    # recent one; a session made by an email link has none until a passkey confirms it.
    passkey_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class OutboxEmail(SQLModel, table=True):
    """A message waiting for the SMTP server. The body is sealed (it may carry a sign-in link)
    and the row is deleted once sent, or once its link has expired."""

    __tablename__ = "email_outbox"

    id: int | None = Field(default=None, primary_key=True)
    recipient: str = Field(sa_column=Column(String(320), nullable=False))
    subject: str = Field(sa_column=Column(String(200), nullable=False))
    kind: str = Field(sa_column=Column(String(40), nullable=False))
    sealed_body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    next_attempt_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, index=True))
    attempts: int = Field(default=0, nullable=False)
    last_error: str = Field(default="", sa_column=Column(String(200), nullable=False))
    expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class OAuthClient(SQLModel, table=True):
    """A relying app. Lists are stored space-separated (URIs cannot contain spaces)."""

    __tablename__ = "oauth_clients"

    id: int | None = Field(default=None, primary_key=True)
    client_id: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    name: str = Field(sa_column=Column(String(100), nullable=False))
    type: str = Field(sa_column=Column(String(16), nullable=False))  # public | confidential
    secret_hash: bytes | None = Field(default=None, sa_column=Column(LargeBinary(32)))
    redirect_uris: str = Field(sa_column=Column(Text, nullable=False))
    post_logout_redirect_uris: str = Field(default="", sa_column=Column(Text, nullable=False))
    scopes: str = Field(sa_column=Column(String(200), nullable=False))
    grant_types: str = Field(sa_column=Column(String(200), nullable=False))
    id_token_alg: str = Field(sa_column=Column(String(16), nullable=False))
    first_party: bool = Field(nullable=False)
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    # Browser apps: the origins whose scripts may call the back-channel endpoints (CORS).
    allowed_origins: str = Field(
        default="", sa_column=Column(Text, nullable=False, server_default="")
    )
    # RFC 8707: the APIs this client may get tokens for, and which of their scopes, as JSON
    # {"<audience>": ["scope", ...]}.
    api_access: str = Field(
        default="{}", sa_column=Column(Text, nullable=False, server_default="{}")
    )
    # OpenID Connect Back-Channel Logout 1.0: where Sesame posts a logout token ("" = never).
    backchannel_logout_uri: str = Field(
        default="", sa_column=Column(Text, nullable=False, server_default="")
    )
    # RFC 7591 2: logo_uri, client_uri, policy_uri, tos_uri as JSON (service.oidc.client_links).
    links: str = Field(default="{}", sa_column=Column(Text, nullable=False, server_default="{}"))
    # True while the app admits only members of its allowed groups (``client_groups``): the
    # token endpoint reads it with the client, so apps open to all pay no extra query.
    group_restricted: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=false())
    )
    # RFC 9126 6: the client's authorization requests must come through /par.
    require_par: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=false())
    )
    # RFC 7591 2: how it authenticates at the token endpoint ("" = by its type: a secret for
    # a confidential client, none for a public one; or private_key_jwt, RFC 7523).
    auth_method: str = Field(
        default="", sa_column=Column(String(32), nullable=False, server_default="")
    )
    # RFC 7591 2: its public keys (a JWK Set as JSON), or where to fetch them ("" = none).
    jwks: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    jwks_uri: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    # RFC 9449 5.2: its access tokens are always DPoP-bound.
    dpop_bound: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=false())
    )
    # "fapi2": held to the FAPI 2.0 Security Profile (service.oidc.assurance.profile).
    profile: str = Field(
        default="", sa_column=Column(String(16), nullable=False, server_default="")
    )
    # Moved on by the database itself on every UPDATE of the row (a trigger, migration 0018),
    # whoever writes it: the token endpoint authenticates against a row cached in process and
    # makes what it writes conditional on this number (``service.db.clients.ClientCache``).
    # SQLite drops a table's triggers when a batch migration copies it: such a migration must
    # create the trigger again (tests/integration/test_client_cache.py checks it at head).
    version: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))


def _fk_client() -> Column[int]:
    return Column(
        Integer, ForeignKey("oauth_clients.id", ondelete="CASCADE"), nullable=False, index=True
    )


class Api(SQLModel, table=True):
    """A resource server (RFC 8707, RFC 9068): an app's own API that accepts Sesame's access
    tokens. Its audience is the ``aud`` of tokens issued for it; its scopes are its own; its
    secret (only the keyed hash is stored) lets it introspect tokens."""

    __tablename__ = "apis"

    id: int | None = Field(default=None, primary_key=True)
    api_id: str = Field(sa_column=Column(String(40), unique=True, nullable=False))
    name: str = Field(sa_column=Column(String(100), nullable=False))
    audience: str = Field(sa_column=Column(String(300), unique=True, nullable=False))
    scopes: str = Field(sa_column=Column(Text, nullable=False))
    secret_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class LogoutDelivery(SQLModel, table=True):
    """A logout token owed to a client (OpenID Connect Back-Channel Logout 1.0): queued in the
    transaction that ends the session, posted by the sender, deleted once delivered."""

    __tablename__ = "logout_deliveries"

    id: int | None = Field(default=None, primary_key=True)
    client_pk: int = Field(sa_column=_fk_client())
    subject: str = Field(sa_column=Column(String(64), nullable=False))
    sid: str | None = Field(default=None, sa_column=Column(String(64)))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    next_attempt_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, index=True))
    attempts: int = Field(default=0, nullable=False)
    last_error: str = Field(default="", sa_column=Column(String(200), nullable=False))


class Grant(SQLModel, table=True):
    """What one authorization (or client_credentials request) issued: the token family.

    Access tokens name it (``gid``) and are honoured only while it stands; its refresh token is
    ``<refresh_lookup>.<secret>`` with only the keyed hash of the whole stored, replaced on every
    use (rotation). ``revoked_at`` ends the family at once.
    """

    __tablename__ = "oauth_grants"
    # Housekeeping finds spent families by when their last token lapses (service.lifecycle).
    __table_args__ = (
        Index("ix_oauth_grants_end", text("coalesce(refresh_expires_at, expires_at)")),
    )

    id: int | None = Field(default=None, primary_key=True)
    gid: str = Field(sa_column=Column(String(43), unique=True, nullable=False))
    client_pk: int = Field(sa_column=_fk_client())
    user_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), index=True),
    )
    sid: str | None = Field(default=None, sa_column=Column(String(43), index=True))
    scope: str = Field(sa_column=Column(String(1000), nullable=False))
    # RFC 8707: the API the tokens are for (their ``aud``); None means Sesame itself.
    resource: str | None = Field(default=None, sa_column=Column(String(300)))
    auth_time: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    amr: str = Field(default="", sa_column=Column(String(64), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    refresh_lookup: str | None = Field(
        default=None, sa_column=Column(String(22), unique=True, nullable=True)
    )
    refresh_hash: bytes | None = Field(default=None, sa_column=Column(LargeBinary(32)))
    refresh_expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    # RFC 9449 5: the thumbprint of the DPoP key a public client's refresh token is bound to.
    dpop_jkt: str | None = Field(default=None, sa_column=Column(String(43)))


class Consent(SQLModel, table=True):
    __tablename__ = "oauth_consents"
    __table_args__ = (UniqueConstraint("user_id", "client_pk"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=_fk_user())
    client_pk: int = Field(sa_column=_fk_client())
    scope: str = Field(sa_column=Column(String(200), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class SigningKey(SQLModel, table=True):
    """A JOSE signing key. The private JWK is stored encrypted under the server key.

    A key is published from ``created_at``, signs from ``not_before`` (so every instance and
    every relying app's JWKS cache has seen it first), and is published until ``retired_at``
    plus the longest token lifetime.
    """

    __tablename__ = "signing_keys"

    id: int | None = Field(default=None, primary_key=True)
    kid: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    alg: str = Field(sa_column=Column(String(16), nullable=False))
    private_jwk: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    public_jwk: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    not_before: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    retired_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class AuditEvent(SQLModel, table=True):
    """Who did what to which account, from where. Kept ``audit_retention_days``; an event
    outlives a deleted account (its user id is cleared)."""

    __tablename__ = "audit_events"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, index=True))
    kind: str = Field(sa_column=Column(String(40), nullable=False, index=True))
    user_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("users.id", ondelete="SET NULL"), index=True),
    )
    actor: str = Field(sa_column=Column(String(100), nullable=False))
    ip: str = Field(default="", sa_column=Column(String(45), nullable=False))
    user_agent: str = Field(default="", sa_column=Column(String(255), nullable=False))
    detail: str = Field(default="", sa_column=Column(String(500), nullable=False))


class Tenant(SQLModel, table=True):
    """An app that keeps its own login and uses Sesame's passkey API, with its own RP ID."""

    __tablename__ = "tenants"

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = Field(sa_column=Column(String(40), unique=True, nullable=False))
    name: str = Field(sa_column=Column(String(100), nullable=False))
    rp_id: str = Field(sa_column=Column(String(253), nullable=False))
    origins: str = Field(sa_column=Column(Text, nullable=False))  # space-separated
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


def _fk_tenant() -> Column[int]:
    return Column(Integer, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False, index=True)


class TenantApiKey(SQLModel, table=True):
    """``sk_<lookup>_<secret>``: the lookup finds the row, only the keyed hash of the whole key
    is stored. Several per tenant (rotation); revocable."""

    __tablename__ = "tenant_api_keys"

    id: int | None = Field(default=None, primary_key=True)
    tenant_pk: int = Field(sa_column=_fk_tenant())
    lookup: str = Field(sa_column=Column(String(16), unique=True, nullable=False))
    key_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    name: str = Field(sa_column=Column(String(100), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class TenantCredential(SQLModel, table=True):
    """A passkey of one of a tenant's users. Kept apart from Sesame's own accounts; the same
    WebAuthn rules apply."""

    __tablename__ = "tenant_credentials"
    __table_args__ = (UniqueConstraint("tenant_pk", "credential_id"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant_pk: int = Field(sa_column=_fk_tenant())
    user_id: str = Field(sa_column=Column(String(128), nullable=False, index=True))
    user_handle: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    username: str = Field(sa_column=Column(String(128), nullable=False))
    credential_id: bytes = Field(
        sa_column=Column(LargeBinary(MAX_CREDENTIAL_ID_BYTES), nullable=False)
    )
    public_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    sign_count: int = Field(sa_column=Column(BigInteger, nullable=False, default=0))
    transports: str = Field(default="", sa_column=Column(String(200), nullable=False))
    aaguid: str = Field(sa_column=Column(String(36), nullable=False))
    backup_eligible: bool = Field(nullable=False)
    backup_state: bool = Field(nullable=False)
    name: str = Field(sa_column=Column(String(64), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    last_used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


# Re-exported so that every table is on SQLModel.metadata once this module is imported.
from service.db.group_tables import ApiRole as ApiRole  # noqa: E402
from service.db.group_tables import ClientGroup as ClientGroup  # noqa: E402
from service.db.group_tables import Group as Group  # noqa: E402
from service.db.group_tables import GroupMember as GroupMember  # noqa: E402
from service.db.group_tables import Invitation as Invitation  # noqa: E402
from service.db.webhook_tables import Webhook as Webhook  # noqa: E402
from service.db.webhook_tables import WebhookCursor as WebhookCursor  # noqa: E402
from service.db.webhook_tables import WebhookDelivery as WebhookDelivery  # noqa: E402
