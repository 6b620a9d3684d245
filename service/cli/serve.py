"""``sesame serve`` and ``sesame migrate``: run the web server, upgrade the schema."""

from __future__ import annotations

import argparse
import asyncio
import os

from service import logs, metrics, supervisor
from service.cli.base import settings_or_exit
from service.db.engine import Database
from service.db.schema_version import is_current


def serve(args: argparse.Namespace) -> int:
    settings = settings_or_exit()
    logs.configure(settings, args.log_level)
    if settings.env == "development":
        # Embedded default: bring the schema up to date before serving. Production never
        # migrates implicitly (replicas would race); run `sesame migrate` as its own step.
        # The key is generated here, once, so that several workers never race to write it.
        settings.ensure_secret_key()
        if asyncio.run(_migrations_due(settings.database_url)):
            _upgrade(settings.database_url)
    host = args.host or settings.host
    port = args.port or settings.port
    store = f"Redis at {settings.redis_url}" if settings.redis_url else "in-process store"
    print(
        f"Sesame {settings.env}: open {settings.issuer} "
        f"(listening on {host}:{port}, database {settings.database_url.split('://')[0]}, {store})",
        flush=True,
    )
    # Workers are separate processes: their counters are added up through files (see
    # service.metrics), set up here before any of them imports prometheus_client.
    if settings.workers > 1:
        samples = metrics.use_multiprocess_mode()
        if samples:
            os.environ["SESAME_METRICS_TEMPORARY"] = samples  # the supervisor removes it
    # The serving process starts afresh, without what the command line loaded.
    argv = supervisor.command(host, port, args.log_level)
    os.execv(argv[0], argv)  # noqa: S606 (this interpreter, a module of ours)


async def _migrations_due(database_url: str) -> bool:
    db = Database(database_url)
    try:
        return not await is_current(db.engine)
    finally:
        await db.dispose()


def _upgrade(database_url: str) -> None:
    """Alembic is imported only to migrate: a server whose schema is current never loads it."""
    from service.db.migrate import upgrade

    upgrade(database_url)


def migrate(_args: argparse.Namespace) -> int:
    settings = settings_or_exit()
    _upgrade(settings.database_url)
    print("sesame: database schema is up to date")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p_serve = sub.add_parser("serve", help="run the web server")
    p_serve.add_argument("--host")
    p_serve.add_argument("--port", type=int)
    p_serve.add_argument("--log-level", default="info")
    p_serve.set_defaults(func=serve)
    sub.add_parser("migrate", help="upgrade the database schema").set_defaults(func=migrate)
