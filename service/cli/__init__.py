"""The ``sesame`` command, a module per command group: ``serve`` and ``migrate``,
``clients``, ``apis``, ``keys``, ``users`` and ``sessions``, ``groups``, ``tenants``, ``audit``,
``prune``, ``doctor``.

``GROUPS`` is the one list of command groups; each module adds its parser with ``register``
and runs through the helpers in ``base``. Exit codes: 0 done, 1 no such thing or a failed
check, 2 a refusal (bad input, a missing ``--yes``, a configuration error).
"""

from __future__ import annotations

import argparse
import logging

from service.cli import (
    apis,
    audit,
    clients,
    doctor,
    groups,
    keys,
    prune,
    serve,
    tenants,
    users,
    webhooks,
)

GROUPS = (serve, clients, apis, keys, users, groups, webhooks, doctor, tenants, audit, prune)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(prog="sesame", description="Sesame identity service")
    sub = parser.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.register(sub)
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


__all__ = ["GROUPS", "main"]
