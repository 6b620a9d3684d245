"""``sesame audit prune``: remove audit events older than the retention period."""

from __future__ import annotations

import argparse

from service import audit
from service.auth.context import AuthContext
from service.cli.base import group
from service.oidc.context import OidcContext


async def act(ctx: AuthContext, _oidc: OidcContext, _args: argparse.Namespace) -> int:
    days = ctx.settings.audit_retention_days
    removed = await audit.prune(ctx.db, ctx.clock, days)
    print(f"sesame: removed {removed} audit events older than {days} days")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    actions = group(sub, "audit", "the audit trail", act)
    actions.add_parser("prune", help="remove events older than SESAME_AUDIT_RETENTION_DAYS")
