"""What housekeeping removes: one registered unit per kind of row that can no longer be used,
each with the rule that says so. ``SWEEPS`` is the one list; the sweeper, ``sesame prune`` and
the metrics' ``kind`` label read it.

Kept, on purpose:

* a grant (token family) stays while any token of it could still be presented: its refresh
  token until it lapses (idle or absolute lifetime), then the access and ID tokens issued with
  the last refresh, for the longest token lifetime. A revoked family is kept as long too, so a
  stolen refresh token presented meanwhile is still answered "revoked"; once the row is gone
  the same token is refused as unknown (RFC 9700 4.14.2: nothing becomes usable again);
* a session while it is inside both its idle and absolute lifetimes (the settings of the day:
  shortening ``SESAME_SESSION_IDLE_SECONDS`` removes the sessions it now ends);
* audit events for ``SESAME_AUDIT_RETENTION_DAYS``.

Consents of a deleted client go with it (foreign keys cascade, on SQLite too); parked
authorization requests, ceremonies, email links and codes live in the store with their own
expiry; the email outbox and the back-channel logout queue drop what has expired as they run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Table

from service.db import housekeeping as rows
from service.settings import Settings


@dataclass(frozen=True)
class Sweep:
    """``kind`` names it in metrics, logs and ``sesame prune``; a row goes when its ``key``
    (an indexed time) is before ``cutoff(settings, now)``."""

    kind: str
    table: Table
    key: ColumnElement[Any]
    cutoff: Callable[[Settings, datetime], datetime]
    about: str


def _now(_settings: Settings, now: datetime) -> datetime:
    return now


def _idle(settings: Settings, now: datetime) -> datetime:
    return now - timedelta(seconds=settings.session_idle_seconds)


def _last_tokens(settings: Settings, now: datetime) -> datetime:
    return now - timedelta(seconds=settings.max_token_seconds)


def _retention(settings: Settings, now: datetime) -> datetime:
    return now - timedelta(days=settings.audit_retention_days)


SWEEPS = (
    Sweep(
        "sessions", rows.SESSIONS, rows.SESSION_END, _now,
        "browser sessions past their absolute lifetime",
    ),
    Sweep(
        "idle_sessions", rows.SESSIONS, rows.SESSION_SEEN, _idle,
        "browser sessions unused for the idle lifetime",
    ),
    Sweep(
        "grants", rows.GRANTS, rows.GRANT_END, _last_tokens,
        "token families none of whose tokens can still be used",
    ),
    Sweep(
        "audit_events", rows.AUDIT_EVENTS, rows.AUDIT_AT, _retention,
        "audit events older than the retention",
    ),
)  # fmt: skip

KINDS = tuple(sweep.kind for sweep in SWEEPS)
