"""The ``sesame`` command: ``serve`` and ``migrate``."""

from __future__ import annotations

import argparse
import logging
import sys

from pydantic import ValidationError

from service.db.migrate import upgrade
from service.settings import Settings


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        for err in exc.errors():
            print(f"sesame: configuration error: {err['msg']}", file=sys.stderr)
        raise SystemExit(2) from exc


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = _settings()
    if settings.env == "development":
        # Embedded default: bring the schema up to date before serving. Production never
        # migrates implicitly (replicas would race); run `sesame migrate` as its own step.
        # The key is generated here, once, so that several workers never race to write it.
        settings.ensure_secret_key()
        upgrade(settings.database_url)
    host = args.host or settings.host
    port = args.port or settings.port
    store = f"Redis at {settings.redis_url}" if settings.redis_url else "in-process store"
    print(
        f"Sesame {settings.env}: open {settings.issuer} "
        f"(listening on {host}:{port}, database {settings.database_url.split('://')[0]}, {store})",
        flush=True,
    )
    uvicorn.run(
        "service.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=settings.workers,
        proxy_headers=False,
        log_level=args.log_level,
        timeout_graceful_shutdown=20,
    )
    return 0


def migrate(_args: argparse.Namespace) -> int:
    settings = _settings()
    upgrade(settings.database_url)
    print("sesame: database schema is up to date")
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(prog="sesame", description="Sesame identity service")
    sub = parser.add_subparsers(dest="command", required=True)
    p_serve = sub.add_parser("serve", help="run the web server")
    p_serve.add_argument("--host")
    p_serve.add_argument("--port", type=int)
    p_serve.add_argument("--log-level", default="info")
    p_serve.set_defaults(func=serve)
    p_migrate = sub.add_parser("migrate", help="upgrade the database schema")
    p_migrate.set_defaults(func=migrate)
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
