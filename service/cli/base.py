"""What every command shares: settings (a configuration error is one line, exit 2), the
contexts for one run, JSON output and the one shape of a refusal."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import ValidationError

from service.app import build_contexts
from service.auth.context import AuthContext
from service.oidc.context import OidcContext
from service.settings import Settings


def settings_or_exit() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        for err in exc.errors():
            print(f"sesame: configuration error: {err['msg']}", file=sys.stderr)
        raise SystemExit(2) from exc


def run(settings: Settings, work: Callable[[AuthContext, OidcContext], Awaitable[int]]) -> int:
    """Run one command's work with its own contexts, closed afterwards."""

    async def go() -> int:
        auth, oidc = build_contexts(settings)
        try:
            return await work(auth, oidc)
        finally:
            await auth.store.close()
            await auth.db.dispose()

    return asyncio.run(go())


def print_json(value: object) -> None:
    print(json.dumps(value, indent=2))


def show(found: Any, view: Callable[[Any], object], missing: str) -> int:
    """Print ``view(found)`` as JSON, or say what is missing (exit 1)."""
    if found is None:
        return refuse(missing)
    print_json(view(found))
    return 0


def done(succeeded: bool, message: str, missing: str) -> int:
    """Say what was done, or what is missing (exit 1)."""
    if not succeeded:
        return refuse(missing)
    print(f"sesame: {message}")
    return 0


def create_parser(
    actions: argparse._SubParsersAction[argparse.ArgumentParser], shown_once: str
) -> argparse.ArgumentParser:
    """The ``create`` and ``list`` actions every registry group has; returns ``create``, with
    its ``--name``, for the group's own options."""
    create = actions.add_parser("create", help=f"register one; prints its {shown_once} once")
    create.add_argument("--name", required=True)
    actions.add_parser("list", help="list them")
    return create


def api_scope_option(parser: argparse.ArgumentParser, help_text: str) -> None:
    """``--api-scope AUDIENCE SCOPE``, repeatable: one scope of a registered API each."""
    parser.add_argument(
        "--api-scope", nargs=2, action="append", metavar=("AUDIENCE", "SCOPE"), help=help_text
    )


def refuse(message: str, code: int = 1) -> int:
    """Say why on stderr and return the exit code: 1 for "no such thing", 2 for a refusal."""
    print(f"sesame: {message}", file=sys.stderr)
    return code


Action = Callable[[AuthContext, OidcContext, argparse.Namespace], Awaitable[int]]


def group(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    help_text: str,
    act: Action,
) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    """A command group: its parser, with the actions below it, all run by ``act`` with the
    contexts of one run."""

    def command(args: argparse.Namespace) -> int:
        async def work(auth: AuthContext, oidc: OidcContext) -> int:
            return await act(auth, oidc, args)

        return run(settings_or_exit(), work)

    parser = sub.add_parser(name, help=help_text)
    parser.set_defaults(func=command)
    return parser.add_subparsers(dest="action", required=True)
