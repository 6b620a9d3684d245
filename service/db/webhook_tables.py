"""Webhooks (issue 16): subscriptions to the audit trail's kinds, and the deliveries owed to
them (a durable queue, ``service.db.queue``). Re-exported by ``models``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.db.types import UTCDateTime


class Webhook(SQLModel, table=True):
    """Where to post which events. The signing secret is sealed under the server key (it must
    be read back to sign), never stored in the clear."""

    __tablename__ = "webhooks"

    id: int | None = Field(default=None, primary_key=True)
    webhook_id: str = Field(sa_column=Column(String(40), unique=True, nullable=False))
    url: str = Field(sa_column=Column(Text, nullable=False))
    events: str = Field(sa_column=Column(Text, nullable=False))  # space-separated kinds
    sealed_secret: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class WebhookDelivery(SQLModel, table=True):
    """One event owed to one webhook: at most one per (webhook, event), deleted once the
    receiver answered 2xx; ``user_key`` keeps one person's events in order."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("webhook_pk", "event_id"),)

    id: int | None = Field(default=None, primary_key=True)
    webhook_pk: int = Field(
        sa_column=Column(
            Integer, ForeignKey("webhooks.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    event_id: int = Field(sa_column=Column(Integer, nullable=False))
    user_key: str = Field(default="", sa_column=Column(String(64), nullable=False))
    payload: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    next_attempt_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, index=True))
    attempts: int = Field(default=0, nullable=False)
    last_error: str = Field(default="", sa_column=Column(String(200), nullable=False))


class WebhookCursor(SQLModel, table=True):
    """How far the audit trail has been fanned out to the webhooks (one row)."""

    __tablename__ = "webhook_cursor"

    id: int = Field(default=1, primary_key=True)
    last_event_id: int = Field(default=0, nullable=False)
