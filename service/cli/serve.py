"""``sesame serve`` and ``sesame migrate``: run the web server, upgrade the schema."""

from __future__ import annotations

import argparse
import asyncio
import os

from service import logs, metrics
from service.cli.base import settings_or_exit
from service.db.engine import Database
from service.db.schema_version import is_current
from service.settings import Settings


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
    os.environ["SESAME_LOG_LEVEL"] = args.log_level
    # Workers are separate processes: their counters are added up through files (see
    # service.metrics), set up here before any of them imports prometheus_client.
    samples = metrics.use_multiprocess_mode() if settings.workers > 1 else None
    try:
        _run(settings, host, port, args.log_level)
    finally:
        if samples:
            metrics.forget_multiprocess_dir(samples)
    return 0


def _run(settings: Settings, host: str, port: int, log_level: str) -> None:
    import uvicorn

    uvicorn.run(
        "service.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=settings.workers,
        # Forwarded headers are believed only from SESAME_TRUSTED_PROXIES, by the same
        # middleware inside the app (service.app), so tests and every server see one rule.
        proxy_headers=False,
        log_level=log_level,
        log_config=None,
        access_log=False,
        # On SIGTERM: stop accepting, let in-flight requests finish (bounded), then exit.
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,
    )


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
