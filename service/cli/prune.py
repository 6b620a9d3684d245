"""``sesame prune [--dry-run] [--kind KIND ...]``: the background housekeeping sweep, once
(``service.lifecycle``), for operators who prefer cron or want to see what it would remove."""

from __future__ import annotations

import argparse

from service.auth.context import AuthContext
from service.cli.base import run, settings_or_exit
from service.lifecycle.sweeper import sweep
from service.lifecycle.sweeps import KINDS, SWEEPS
from service.oidc.context import OidcContext


def command(args: argparse.Namespace) -> int:
    settings = settings_or_exit()

    async def work(ctx: AuthContext, _oidc: OidcContext) -> int:
        report = await sweep(
            ctx.db, ctx.clock, settings, kinds=args.kind or KINDS, dry_run=args.dry_run
        )
        if report.skipped:
            print("sesame: another replica is sweeping now; nothing done")
            return 0
        verb = "would remove" if args.dry_run else "removed"
        for item in SWEEPS:
            if item.kind in report.counts:
                print(f"{item.kind:14} {verb} {report.counts[item.kind]:>9}  ({item.about})")
        print(f"sesame: {verb} {report.total} rows in {report.seconds:.2f} s")
        return 0

    return run(settings, work)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "prune", help="remove expired sessions, spent grants and old audit events now"
    )
    parser.add_argument("--dry-run", action="store_true", help="count, remove nothing")
    parser.add_argument(
        "--kind", action="append", choices=KINDS, help="only this kind (repeatable)"
    )
    parser.set_defaults(func=command)
