"""What the console's dashboard shows an administrator at a glance: people, today's sign-ins
and failures, mail waiting to go out, groups and apps, and how old the signing keys are."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from service.auth.context import AuthContext
from service.db import audit as audit_rows
from service.db import counts, signing_keys
from service.db import users as user_rows
from service.db.models import Group, OAuthClient, OutboxEmail

SIGNINS = ("signin.passkey", "signin.email")
FAILURES = ("signin.passkey.failed", "signin.email.failed")


@dataclass(frozen=True)
class SigningKeyAge:
    kid: str
    alg: str
    days: int


@dataclass(frozen=True)
class Overview:
    users: int
    admins: int
    signins_today: int
    failed_today: int
    email_queue: int
    groups: int
    apps: int
    keys: list[SigningKeyAge]


async def overview(ctx: AuthContext) -> Overview:
    """Counts since midnight UTC; the signing keys that sign now."""
    now = ctx.clock.now()
    midnight = datetime.combine(now.date(), time(), tzinfo=now.tzinfo)
    async with ctx.db.session() as db:
        users = await user_rows.count(db)
        admins = await user_rows.count(db, admins=True)
        today = await audit_rows.count_by_kind(db, SIGNINS + FAILURES, midnight)
        queued = await counts.rows(db, OutboxEmail)
        groups = await counts.rows(db, Group)
        apps = await counts.rows(db, OAuthClient)
        keys = await signing_keys.current(db)
    return Overview(
        users=users,
        admins=admins,
        signins_today=sum(today[k] for k in SIGNINS),
        failed_today=sum(today[k] for k in FAILURES),
        email_queue=queued,
        groups=groups,
        apps=apps,
        keys=[SigningKeyAge(k.kid, k.alg, (now - k.created_at).days) for k in keys],
    )
