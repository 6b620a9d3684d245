"""Tables. Alembic reads ``SQLModel.metadata`` from here (migrations/env.py)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Column, ForeignKey, Integer, LargeBinary, String, Uuid
from sqlmodel import Field, SQLModel

from service.db.types import UTCDateTime

MAX_CREDENTIAL_ID_BYTES = 1023  # WebAuthn L3 5.1: credential IDs are at most 1023 bytes


def _fk_user() -> Column[int]:
    return Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)


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

    id: int | None = Field(default=None, primary_key=True)
    token_hash: bytes = Field(sa_column=Column(LargeBinary(32), unique=True, nullable=False))
    user_id: int = Field(sa_column=_fk_user())
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    last_seen_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    auth_time: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    amr: str = Field(sa_column=Column(String(64), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    user_agent: str = Field(default="", sa_column=Column(String(255), nullable=False))
