"""``sesame keys``: rotate the signing keys, print the published JWKS."""

from __future__ import annotations

import argparse

from service.auth.context import AuthContext
from service.cli.base import group, print_json
from service.oidc.context import OidcContext
from service.oidc.key_rotation import rotate_keys


async def act(_auth: AuthContext, oidc: OidcContext, args: argparse.Namespace) -> int:
    if args.action == "rotate":
        kids, delay = await rotate_keys(oidc, at_once=args.now, actor="cli")
        print(f"sesame: published {', '.join(kids)}; they sign in {delay} s")
        return 0
    await oidc.signer.ensure()
    print_json(await oidc.signer.jwks())
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    actions = group(sub, "keys", "signing keys", act)
    rotate = actions.add_parser("rotate", help="publish new keys; they sign after a short delay")
    rotate.add_argument("--now", action="store_true", help="sign with them at once")
    actions.add_parser("list", help="print the published JWKS")
