"""``sesame users`` and ``sesame sessions``: find, disable, enable and delete accounts, make
them administrators (who then use the console at /admin), end a user's sessions."""

from __future__ import annotations

import argparse
import json
import sys

from service.auth import invitations, operators
from service.auth.context import AuthContext
from service.cli.base import group, print_json, refuse
from service.oidc.context import OidcContext
from service.problems import Problem

WHO = "username, email address or user id"


async def act(ctx: AuthContext, _oidc: OidcContext, args: argparse.Namespace) -> int:
    if args.action == "invite":
        try:
            row, path = await invitations.invite(ctx, args.email, args.group or [], actor="cli")
        except Problem as exc:
            return refuse(str(exc), 2)
        print(f"{ctx.settings.issuer}{path}")
        print(
            f"sesame: invitation mailed to {row.email}, valid until {row.expires_at:%Y-%m-%d}; "
            "the link above works once (give it yourself if mail cannot reach them)",
            file=sys.stderr,
        )
        return 0
    if args.action == "list":
        for summary in await operators.list_users(ctx, args.limit, admins=args.admins):
            print(json.dumps(summary.as_dict()))
        return 0
    found = await operators.find_user(ctx, args.user)
    if found is None:
        return refuse(f"no user {args.user!r} (give a {WHO})")
    user = found.user
    if args.action == "show":
        print_json(found.as_dict())
    elif args.action in {"disable", "enable"}:
        await operators.set_disabled(ctx, user, args.action == "disable")
        print(f"sesame: {user.username} {args.action}d")
    elif args.action in {"grant-admin", "revoke-admin"}:
        granting = args.action == "grant-admin"
        changed = await operators.set_admin(ctx, user, granting)
        state = "is now" if granting else "is no longer"
        if not changed:
            state = "was already" if granting else "was not"
        print(f"sesame: {user.username} {state} an administrator (the console is at /admin)")
    elif args.action == "delete":
        if not args.yes:
            return refuse("deleting is final; add --yes to confirm", 2)
        await operators.delete_user(ctx, user)
        print(f"sesame: deleted {user.username} with their passkeys, sessions and grants")
    else:  # sessions revoke
        await operators.revoke_sessions(ctx, user)
        print(f"sesame: every session of {user.username} has ended")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    actions = group(sub, "users", "accounts: list, show, disable, enable, delete", act)
    listing = actions.add_parser("list", help="one JSON object per user")
    listing.add_argument("--limit", type=int, default=100)
    listing.add_argument("--admins", action="store_true", help="only the administrators")
    inviting = actions.add_parser("invite", help="mail someone a link that creates their account")
    inviting.add_argument("email")
    inviting.add_argument("--group", action="append", help="a group the account joins; repeat")
    for name, text in (
        ("show", "one user, with passkey and session counts"),
        ("disable", "refuse sign-in, end every session and app grant"),
        ("enable", "allow sign-in again"),
        ("delete", "delete the account and everything attached (needs --yes)"),
        ("grant-admin", "make an administrator: the console at /admin, with their passkey"),
        ("revoke-admin", "no longer an administrator"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument("user", help=WHO)
        if name == "delete":
            action.add_argument("--yes", action="store_true")
    sessions = group(sub, "sessions", "browser sessions", act)
    sessions.add_parser("revoke", help="end every session of a user").add_argument("user", help=WHO)
