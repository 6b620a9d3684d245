"""``sesame tenants``: apps using the passkey API, and their API keys."""

from __future__ import annotations

import argparse
import json
import sys

from service import passkey_api
from service.auth.context import AuthContext
from service.cli.base import create_parser, done, group, print_json, refuse
from service.oidc.context import OidcContext


async def act(ctx: AuthContext, _oidc: OidcContext, args: argparse.Namespace) -> int:
    if args.action == "create":
        try:
            tenant, key = await passkey_api.create_tenant(
                ctx, args.name, args.rp_id, args.origin, actor="cli"
            )
        except passkey_api.TenantRejected as exc:
            return refuse(str(exc), 2)
        print_json({"tenant_id": tenant.tenant_id, "rp_id": tenant.rp_id, "api_key": key})
        print("sesame: the API key is shown only now; store it safely.", file=sys.stderr)
        return 0
    if args.action == "list":
        for t in await passkey_api.list_tenants(ctx):
            print(json.dumps({"tenant_id": t.tenant_id, "name": t.name, "rp_id": t.rp_id}))
        return 0
    found = await passkey_api.find_tenant(ctx, args.tenant_id)
    if found is None:
        return refuse(f"no tenant {args.tenant_id}")
    if args.action == "add-key":
        print_json(
            {"api_key": await passkey_api.new_api_key(ctx, found, args.key_name, actor="cli")}
        )
        return 0
    if args.action == "delete":
        if not args.yes:
            return refuse("deleting a tenant removes its users' passkeys; add --yes", 2)
        await passkey_api.delete_tenant(ctx, found, actor="cli")
        print(f"sesame: deleted {found.tenant_id}, its keys and its users' passkeys")
        return 0
    revoked = await passkey_api.revoke_api_key(ctx, found, args.lookup, actor="cli")
    return done(revoked, f"key {args.lookup} revoked", f"no live key {args.lookup}")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    actions = group(sub, "tenants", "apps using the passkey API", act)
    create = create_parser(actions, "first API key")
    create.add_argument("--rp-id", required=True, help="the app's WebAuthn RP ID (its domain)")
    create.add_argument("--origin", action="append", required=True, help="repeat for several")
    add_key = actions.add_parser("add-key", help="another API key (for rotation); printed once")
    add_key.add_argument("tenant_id")
    add_key.add_argument("--key-name", default="rotated")
    revoke = actions.add_parser(
        "revoke-key", help="revoke an API key by its lookup (sk_<lookup>_...)"
    )
    revoke.add_argument("tenant_id")
    revoke.add_argument("lookup")
    delete = actions.add_parser("delete", help="delete a tenant and its users' passkeys")
    delete.add_argument("tenant_id")
    delete.add_argument("--yes", action="store_true")
