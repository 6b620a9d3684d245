"""``sesame apis``: register an app's API (a resource server) with its audience and scopes, list,
show and delete them, and give groups roles there (``grant-role``). Clients are then allowed
some of its scopes with ``sesame clients create --api-scope AUDIENCE SCOPE``."""

from __future__ import annotations

import argparse
import sys

from service.auth.context import AuthContext
from service.cli.base import create_parser, done, group, print_json, refuse
from service.oidc import apis, roles
from service.oidc.context import OidcContext


async def act(_auth: AuthContext, oidc: OidcContext, args: argparse.Namespace) -> int:
    if args.action == "create":
        try:
            row, secret = await apis.create_api(
                oidc, args.name, args.audience, args.scope, actor="cli"
            )
        except apis.ApiRejected as exc:
            return refuse(str(exc), 2)
        print_json({**apis.api_view(row), "secret": secret})
        print("sesame: the API's introspection secret is shown only now.", file=sys.stderr)
        return 0
    if args.action == "list":
        print_json([apis.api_view(row) for row in await apis.list_apis(oidc)])
        return 0
    if args.action == "show":
        found = await apis.get_api(oidc, args.api_id)
        if found is None or found.id is None:
            return refuse(f"no API {args.api_id}")
        print_json({**apis.api_view(found), "roles": await roles.roles_of_api(oidc, found.id)})
        return 0
    if args.action in {"grant-role", "revoke-role"}:
        held = args.action == "grant-role"
        try:
            changed = await roles.set_role(
                oidc, args.api_id, args.role, args.group, held, actor="cli"
            )
        except roles.RoleRejected as exc:
            return refuse(str(exc), 2)
        if changed is None:
            return refuse(f"no API {args.api_id} or no group {args.group!r}")
        verb = ("now holds" if held else "no longer holds") if changed else "unchanged:"
        print(f"sesame: {args.group} {verb} {args.role} at {args.api_id}")
        return 0
    deleted = await apis.delete_api(oidc, args.api_id, actor="cli")
    return done(deleted, f"deleted {args.api_id}", f"no API {args.api_id}")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    actions = group(sub, "apis", "your APIs (resource servers) and their scopes", act)
    create = create_parser(actions, "secret")
    create.add_argument("--audience", required=True, help="e.g. https://api.example.com")
    create.add_argument("--scope", action="append", required=True, help="repeat for several")
    for name, text in (("show", "show one API, with its roles"), ("delete", "delete an API")):
        actions.add_parser(name, help=text).add_argument("api_id")
    for name, text in (
        ("grant-role", "members of a group hold a role at the API (in their access tokens)"),
        ("revoke-role", "the group's members no longer hold the role"),
    ):
        role = actions.add_parser(name, help=text)
        role.add_argument("api_id")
        role.add_argument("role")
        role.add_argument("--group", required=True)
