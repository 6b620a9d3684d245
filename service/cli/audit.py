"""``sesame audit prune``: remove audit events older than the retention period."""

from __future__ import annotations

import argparse

from service import audit
from service.auth.context import AuthContext
from service.cli.base import parser_for, run, settings_or_exit
from service.oidc.context import OidcContext


def command(_args: argparse.Namespace) -> int:
    settings = settings_or_exit()

    async def work(ctx: AuthContext, _oidc: OidcContext) -> int:
        removed = await audit.prune(ctx.db, ctx.clock, settings.audit_retention_days)
        days = settings.audit_retention_days
        print(f"sesame: removed {removed} audit events older than {days} days")
        return 0

    return run(settings, work)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    actions = parser_for(sub, "audit", "the audit trail", command)
    actions.add_parser("prune", help="remove events older than SESAME_AUDIT_RETENTION_DAYS")
