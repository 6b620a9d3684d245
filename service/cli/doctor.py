"""``sesame doctor``: check configuration, database, Redis, SMTP and keys; exit 1 on a
problem."""

from __future__ import annotations

import argparse

from service import doctor
from service.auth.context import AuthContext
from service.cli.base import run, settings_or_exit
from service.oidc.context import OidcContext


def command(_args: argparse.Namespace) -> int:
    settings = settings_or_exit()
    findings = doctor.configuration(settings)

    async def work(ctx: AuthContext, oidc: OidcContext) -> int:
        findings.extend(await doctor.services(ctx, oidc))
        return 0

    run(settings, work)
    marks = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}
    for finding in findings:
        print(f"{marks[finding.level]}  {finding.check}: {finding.detail}")
    failed = [f for f in findings if f.level == "fail"]
    print(f"sesame doctor: {len(failed)} problem(s)" if failed else "sesame doctor: all good")
    return 1 if failed else 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    help_text = "check configuration, database, Redis, SMTP and keys"
    sub.add_parser("doctor", help=help_text).set_defaults(func=command)
