"""``sesame audit prune``: remove audit events older than the retention period (the
``audit_events`` part of ``sesame prune``)."""

from __future__ import annotations

import argparse

from service.auth.context import AuthContext
from service.cli.base import group
from service.lifecycle.sweeper import sweep
from service.oidc.context import OidcContext


async def act(ctx: AuthContext, _oidc: OidcContext, _args: argparse.Namespace) -> int:
    days = ctx.settings.audit_retention_days
    report = await sweep(ctx.db, ctx.clock, ctx.settings, kinds=["audit_events"])
    if report.skipped:
        print("sesame: another replica is sweeping now; nothing done")
        return 0
    print(f"sesame: removed {report.counts['audit_events']} audit events older than {days} days")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    actions = group(sub, "audit", "the audit trail", act)
    actions.add_parser("prune", help="remove events older than SESAME_AUDIT_RETENTION_DAYS")
