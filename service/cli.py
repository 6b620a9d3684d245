"""The ``sesame`` command: ``serve``, ``migrate``, ``clients``, ``keys``, ``users``,
``sessions``, ``doctor``."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Awaitable, Callable

from pydantic import ValidationError

from service import audit, doctor, logs, passkey_api
from service.app import build_contexts
from service.auth import operators
from service.auth.context import AuthContext
from service.db.migrate import upgrade
from service.keys.signing import ALGORITHMS, DEFAULT_ALG
from service.oidc import clients
from service.oidc.clients import CLIENT_TYPES, ClientRejected, ClientSpec
from service.oidc.context import OidcContext
from service.oidc.grants import GRANT_TYPES
from service.settings import Settings


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        for err in exc.errors():
            print(f"sesame: configuration error: {err['msg']}", file=sys.stderr)
        raise SystemExit(2) from exc


def _run(settings: Settings, work: Callable[[AuthContext, OidcContext], Awaitable[int]]) -> int:
    async def go() -> int:
        auth, oidc = build_contexts(settings)
        try:
            return await work(auth, oidc)
        finally:
            await auth.store.close()
            await auth.db.dispose()

    return asyncio.run(go())


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
        # On SIGTERM: stop accepting, let in-flight requests finish (bounded), then exit.
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,
    )
    return 0


def migrate(_args: argparse.Namespace) -> int:
    settings = _settings()
    upgrade(settings.database_url)
    print("sesame: database schema is up to date")
    return 0


def _print_json(value: object) -> None:
    print(json.dumps(value, indent=2))


def clients_command(args: argparse.Namespace) -> int:
    settings = _settings()

    async def work(_auth: AuthContext, oidc: OidcContext) -> int:
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
                row, secret = await clients.create_client(oidc, spec, actor="cli")
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
            if not await clients.delete_client(oidc, args.client_id, actor="cli"):
                print(f"sesame: no client {args.client_id}", file=sys.stderr)
                return 1
            print(f"sesame: deleted {args.client_id} and everything issued to it")
            return 0
        secret = await clients.rotate_secret(oidc, args.client_id, actor="cli")
        if secret is None:
            print(f"sesame: no confidential client {args.client_id}", file=sys.stderr)
            return 1
        _print_json({"client_id": args.client_id, "client_secret": secret})
        return 0

    return _run(settings, work)


def keys_command(args: argparse.Namespace) -> int:
    settings = _settings()

    async def work(_auth: AuthContext, oidc: OidcContext) -> int:
        if args.action == "rotate":
            # Sign with the new key only once every instance's cache and relying apps' JWKS
            # caches (both at most signing_key_cache_seconds) can have seen it.
            delay = 0 if args.now else 2 * settings.signing_key_cache_seconds
            kids = await oidc.signer.rotate(delay_seconds=delay)
            await audit.record_alone(
                oidc.db,
                oidc.clock,
                "keys.rotated",
                user_id=None,
                actor="cli",
                detail=" ".join(kids),
            )
            print(f"sesame: published {', '.join(kids)}; they sign in {delay} s")
            return 0
        await oidc.signer.ensure()
        _print_json(await oidc.signer.jwks())
        return 0

    return _run(settings, work)


def users_command(args: argparse.Namespace) -> int:
    settings = _settings()

    async def work(ctx: AuthContext, _oidc: OidcContext) -> int:
        if args.action == "list":
            for summary in await operators.list_users(ctx, args.limit):
                print(json.dumps(summary.as_dict()))
            return 0
        found = await operators.find_user(ctx, args.user)
        if found is None:
            print(
                f"sesame: no user {args.user!r} (give a username, email or user id)",
                file=sys.stderr,
            )
            return 1
        user = found.user
        if args.action == "show":
            _print_json(found.as_dict())
        elif args.action in {"disable", "enable"}:
            await operators.set_disabled(ctx, user, args.action == "disable")
            print(f"sesame: {user.username} {args.action}d")
        elif args.action == "delete":
            if not args.yes:
                print("sesame: deleting is final; add --yes to confirm", file=sys.stderr)
                return 2
            await operators.delete_user(ctx, user)
            print(f"sesame: deleted {user.username} with their passkeys, sessions and grants")
        else:  # sessions revoke
            await operators.revoke_sessions(ctx, user)
            print(f"sesame: every session of {user.username} has ended")
        return 0

    return _run(settings, work)


def tenants_command(args: argparse.Namespace) -> int:
    settings = _settings()

    async def work(ctx: AuthContext, _oidc: OidcContext) -> int:
        if args.action == "create":
            try:
                tenant, key = await passkey_api.create_tenant(
                    ctx, args.name, args.rp_id, args.origin, actor="cli"
                )
            except passkey_api.TenantRejected as exc:
                print(f"sesame: {exc}", file=sys.stderr)
                return 2
            _print_json({"tenant_id": tenant.tenant_id, "rp_id": tenant.rp_id, "api_key": key})
            print("sesame: the API key is shown only now; store it safely.", file=sys.stderr)
            return 0
        if args.action == "list":
            for t in await passkey_api.list_tenants(ctx):
                print(json.dumps({"tenant_id": t.tenant_id, "name": t.name, "rp_id": t.rp_id}))
            return 0
        found = await passkey_api.find_tenant(ctx, args.tenant_id)
        if found is None:
            print(f"sesame: no tenant {args.tenant_id}", file=sys.stderr)
            return 1
        if args.action == "add-key":
            key = await passkey_api.new_api_key(ctx, found, args.key_name, actor="cli")
            _print_json({"api_key": key})
            return 0
        if args.action == "delete":
            if not args.yes:
                print(
                    "sesame: deleting a tenant removes its users' passkeys; add --yes",
                    file=sys.stderr,
                )
                return 2
            await passkey_api.delete_tenant(ctx, found, actor="cli")
            print(f"sesame: deleted {found.tenant_id}, its keys and its users' passkeys")
            return 0
        if not await passkey_api.revoke_api_key(ctx, found, args.lookup, actor="cli"):
            print(f"sesame: no live key {args.lookup}", file=sys.stderr)
            return 1
        print(f"sesame: key {args.lookup} revoked")
        return 0

    return _run(settings, work)


def audit_command(_args: argparse.Namespace) -> int:
    settings = _settings()

    async def work(ctx: AuthContext, _oidc: OidcContext) -> int:
        removed = await audit.prune(ctx.db, ctx.clock, settings.audit_retention_days)
        days = settings.audit_retention_days
        print(f"sesame: removed {removed} audit events older than {days} days")
        return 0

    return _run(settings, work)


def doctor_command(_args: argparse.Namespace) -> int:
    settings = _settings()
    findings = doctor.configuration(settings)

    async def work(ctx: AuthContext, oidc: OidcContext) -> int:
        findings.extend(await doctor.services(ctx, oidc))
        return 0

    _run(settings, work)
    marks = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}
    for finding in findings:
        print(f"{marks[finding.level]}  {finding.check}: {finding.detail}")
    failed = [f for f in findings if f.level == "fail"]
    print(f"sesame doctor: {len(failed)} problem(s)" if failed else "sesame doctor: all good")
    return 1 if failed else 0


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

    p_users = sub.add_parser("users", help="accounts: list, show, disable, enable, delete")
    usub = p_users.add_subparsers(dest="action", required=True)
    listing = usub.add_parser("list", help="one JSON object per user")
    listing.add_argument("--limit", type=int, default=100)
    for name, text in (
        ("show", "one user, with passkey and session counts"),
        ("disable", "refuse sign-in, end every session and app grant"),
        ("enable", "allow sign-in again"),
        ("delete", "delete the account and everything attached (needs --yes)"),
    ):
        action = usub.add_parser(name, help=text)
        action.add_argument("user", help="username, email address or user id")
        if name == "delete":
            action.add_argument("--yes", action="store_true")
    p_users.set_defaults(func=users_command)

    p_sessions = sub.add_parser("sessions", help="browser sessions")
    ssub = p_sessions.add_subparsers(dest="action", required=True)
    ssub.add_parser("revoke", help="end every session of a user").add_argument(
        "user", help="username, email address or user id"
    )
    p_sessions.set_defaults(func=users_command)

    sub.add_parser(
        "doctor", help="check configuration, database, Redis, SMTP and keys"
    ).set_defaults(func=doctor_command)
    p_tenants = sub.add_parser("tenants", help="apps using the passkey API")
    tsub = p_tenants.add_subparsers(dest="action", required=True)
    t_create = tsub.add_parser("create", help="register an app; prints its first API key once")
    t_create.add_argument("--name", required=True)
    t_create.add_argument("--rp-id", required=True, help="the app's WebAuthn RP ID (its domain)")
    t_create.add_argument("--origin", action="append", required=True, help="repeat for several")
    tsub.add_parser("list", help="list tenants")
    t_key = tsub.add_parser("add-key", help="another API key (for rotation); printed once")
    t_key.add_argument("tenant_id")
    t_key.add_argument("--key-name", default="rotated")
    t_revoke = tsub.add_parser(
        "revoke-key", help="revoke an API key by its lookup (sk_<lookup>_...)"
    )
    t_revoke.add_argument("tenant_id")
    t_revoke.add_argument("lookup")
    t_delete = tsub.add_parser("delete", help="delete a tenant and its users' passkeys")
    t_delete.add_argument("tenant_id")
    t_delete.add_argument("--yes", action="store_true")
    p_tenants.set_defaults(func=tenants_command)

    p_audit = sub.add_parser("audit", help="the audit trail")
    p_audit.add_subparsers(dest="action", required=True).add_parser(
        "prune", help="remove events older than SESAME_AUDIT_RETENTION_DAYS"
    )
    p_audit.set_defaults(func=audit_command)
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
