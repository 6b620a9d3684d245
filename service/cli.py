"""The ``sesame`` command: ``serve``, ``migrate``, ``clients``, ``keys``."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Awaitable, Callable

from pydantic import ValidationError

from service import logs
from service.app import build_contexts
from service.db.migrate import upgrade
from service.keys.signing import ALGORITHMS, DEFAULT_ALG
from service.oidc import clients
from service.oidc.clients import CLIENT_TYPES, GRANT_TYPES, ClientRejected, ClientSpec
from service.oidc.context import OidcContext
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
    logs.configure(settings, args.log_level)
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
    os.environ["SESAME_LOG_LEVEL"] = args.log_level
    uvicorn.run(
        "service.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=settings.workers,
        # Forwarded headers are handled by Sesame itself, only from SESAME_TRUSTED_PROXIES.
        proxy_headers=False,
        log_level=args.log_level,
        log_config=None,
        access_log=False,
        # On SIGTERM: stop accepting, let in-flight requests finish (up to 20 s), then exit.
        timeout_graceful_shutdown=20,
    )
    return 0


def migrate(_args: argparse.Namespace) -> int:
    settings = _settings()
    upgrade(settings.database_url)
    print("sesame: database schema is up to date")
    return 0


def _run(settings: Settings, work: Callable[[OidcContext], Awaitable[int]]) -> int:
    async def go() -> int:
        _auth, oidc = build_contexts(settings)
        try:
            return await work(oidc)
        finally:
            await oidc.store.close()
            await oidc.db.dispose()

    return asyncio.run(go())


def _print_json(value: object) -> None:
    print(json.dumps(value, indent=2))


def clients_command(args: argparse.Namespace) -> int:
    settings = _settings()

    async def work(oidc: OidcContext) -> int:
        action = args.action
        if action == "create":
            spec = ClientSpec(
                name=args.name,
                type=args.type,
                redirect_uris=args.redirect_uri or [],
                post_logout_redirect_uris=args.post_logout_redirect_uri or [],
                scopes=(args.scope or "openid profile email").split(),
                grant_types=args.grant or ["authorization_code", "refresh_token"],
                id_token_alg=args.alg,
                first_party=args.first_party,
                client_id=args.client_id,
            )
            if (
                args.if_missing
                and args.client_id
                and await clients.get_client(oidc, args.client_id)
            ):
                print(f"sesame: client {args.client_id} already exists", file=sys.stderr)
                return 0
            try:
                row, secret = await clients.create_client(oidc, spec)
            except ClientRejected as exc:
                print(f"sesame: {exc}", file=sys.stderr)
                return 2
            _print_json({**clients.client_view(row), "client_secret": secret})
            if secret:
                print(
                    "sesame: the client secret is shown only now; store it safely.", file=sys.stderr
                )
            return 0
        if action == "list":
            _print_json([clients.client_view(row) for row in await clients.list_clients(oidc)])
            return 0
        if action == "show":
            found = await clients.get_client(oidc, args.client_id)
            if found is None:
                print(f"sesame: no client {args.client_id}", file=sys.stderr)
                return 1
            _print_json(clients.client_view(found))
            return 0
        if action == "delete":
            if not await clients.delete_client(oidc, args.client_id):
                print(f"sesame: no client {args.client_id}", file=sys.stderr)
                return 1
            print(f"sesame: deleted {args.client_id} and everything issued to it")
            return 0
        secret = await clients.rotate_secret(oidc, args.client_id)
        if secret is None:
            print(f"sesame: no confidential client {args.client_id}", file=sys.stderr)
            return 1
        _print_json({"client_id": args.client_id, "client_secret": secret})
        return 0

    return _run(settings, work)


def keys_command(args: argparse.Namespace) -> int:
    settings = _settings()

    async def work(oidc: OidcContext) -> int:
        if args.action == "rotate":
            # Sign with the new key only once every instance's cache and relying apps' JWKS
            # caches (both at most signing_key_cache_seconds) can have seen it.
            delay = 0 if args.now else 2 * settings.signing_key_cache_seconds
            kids = await oidc.signer.rotate(delay_seconds=delay)
            print(f"sesame: published {', '.join(kids)}; they sign in {delay} s")
            return 0
        await oidc.signer.ensure()
        _print_json(await oidc.signer.jwks())
        return 0

    return _run(settings, work)


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

    p_clients = sub.add_parser("clients", help="manage relying apps (OIDC clients)")
    csub = p_clients.add_subparsers(dest="action", required=True)
    create = csub.add_parser("create", help="register a client; prints its secret once")
    create.add_argument("--name", required=True)
    create.add_argument("--type", choices=CLIENT_TYPES, default="confidential")
    create.add_argument("--redirect-uri", action="append", help="repeat for several")
    create.add_argument("--post-logout-redirect-uri", action="append")
    create.add_argument("--scope", help='space-separated (default "openid profile email")')
    create.add_argument("--grant", action="append", choices=GRANT_TYPES)
    create.add_argument("--alg", choices=ALGORITHMS, default=DEFAULT_ALG)
    create.add_argument("--first-party", action="store_true", help="skip the consent page")
    create.add_argument("--client-id", help="choose the id (default: random)")
    create.add_argument("--if-missing", action="store_true", help="do nothing if it exists")
    csub.add_parser("list", help="list clients")
    for name, text in (
        ("show", "show one client"),
        ("delete", "delete a client and everything issued to it"),
        ("rotate-secret", "replace a confidential client's secret (prints it once)"),
    ):
        csub.add_parser(name, help=text).add_argument("client_id")
    p_clients.set_defaults(func=clients_command)

    p_keys = sub.add_parser("keys", help="signing keys")
    ksub = p_keys.add_subparsers(dest="action", required=True)
    rotate = ksub.add_parser("rotate", help="publish new keys; they sign after a short delay")
    rotate.add_argument("--now", action="store_true", help="sign with them at once")
    ksub.add_parser("list", help="print the published JWKS")
    p_keys.set_defaults(func=keys_command)
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
