"""Groups of people, the apps that admit only their members, the roles they hold at your
APIs, and invitations to join (issue 15). Kept beside ``models`` (which re-exports them, so
Alembic sees them) to keep that module readable."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, LargeBinary, String, Text
from sqlmodel import Field, SQLModel

from service.db.types import UTCDateTime


class Group(SQLModel, table=True):
    """A named set of people. Its name is what the ``groups`` claim carries; apps may admit
    only its members (``ClientGroup``)."""

    __tablename__ = "groups"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(String(64), nullable=False))
    # The lower-cased name carries the uniqueness: "Staff" and "staff" cannot both exist.
    name_key: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    description: str = Field(default="", sa_column=Column(String(200), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class GroupMember(SQLModel, table=True):
    """One person in one group; goes with either."""

    __tablename__ = "group_members"

    group_id: int = Field(
        sa_column=Column(Integer, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True)
    )
    user_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
        )
    )
    added_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class ClientGroup(SQLModel, table=True):
    """An app admits members of this group (and of its other allowed groups) only. A group an
    app depends on cannot be deleted (RESTRICT): deleting it must never open the app to all."""

    __tablename__ = "client_groups"

    client_pk: int = Field(
        sa_column=Column(
            Integer, ForeignKey("oauth_clients.id", ondelete="CASCADE"), primary_key=True
        )
    )
    group_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("groups.id", ondelete="RESTRICT"), primary_key=True, index=True
        )
    )


class Invitation(SQLModel, table=True):
    """An administrator's invitation to create an account at ``email``, optionally already in
    some groups. The link carries a secret of which only the keyed hash is stored; it is
    accepted once (``accepted_at`` set in the sign-up's own transaction), before it expires."""

    __tablename__ = "invitations"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: bytes = Field(sa_column=Column(LargeBinary(32), unique=True, nullable=False))
    email: str = Field(sa_column=Column(String(320), nullable=False))
    email_key: str = Field(sa_column=Column(String(320), nullable=False, index=True))
    groups: str = Field(default="", sa_column=Column(Text, nullable=False))  # space-separated
    invited_by: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("users.id", ondelete="SET NULL"), index=True),
    )
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, index=True))
    accepted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class ApiRole(SQLModel, table=True):
    """Members of ``group_id`` hold ``role`` at the API ``api_pk``: its access tokens for them
    carry it in ``roles`` (RFC 9068 2.2.3.1). Goes with the API or the group."""

    __tablename__ = "api_roles"

    api_pk: int = Field(
        sa_column=Column(Integer, ForeignKey("apis.id", ondelete="CASCADE"), primary_key=True)
    )
    group_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True, index=True
        )
    )
    role: str = Field(sa_column=Column(String(64), primary_key=True))
