"""``sesame webhooks``: subscribe an app to events (the audit trail's kinds), list, delete,
rotate a webhook's secret, and see the deliveries still owed (attempts and last error)."""

from __future__ import annotations

import argparse
import sys

from service.auth.context import AuthContext
from service.cli.base import done, group, print_json, refuse
from service.oidc.context import OidcContext
from service.webhooks import registry


async def act(_auth: AuthContext, oidc: OidcContext, args: argparse.Namespace) -> int:
    if args.action == "create":
        try:
            row, secret = await registry.create_webhook(oidc, args.url, args.event, actor="cli")
        except registry.WebhookRejected as exc:
            return refuse(str(exc), 2)
        print_json({**registry.webhook_view(row), "secret": secret})
        print("sesame: the signing secret is shown only now.", file=sys.stderr)
        return 0
    if args.action == "list":
        print_json([registry.webhook_view(row) for row in await registry.list_webhooks(oidc)])
        return 0
    if args.action == "delete":
        deleted = await registry.delete_webhook(oidc, args.webhook_id, actor="cli")
        return done(deleted, f"deleted {args.webhook_id}", f"no webhook {args.webhook_id}")
    if args.action == "rotate-secret":
        rotated = await registry.rotate_secret(oidc, args.webhook_id, actor="cli")
        if rotated is None:
            return refuse(f"no webhook {args.webhook_id}")
        print_json({"webhook_id": args.webhook_id, "secret": rotated})
        return 0
    owed = await registry.pending_deliveries(oidc, args.webhook_id)
    if owed is None:
        return refuse(f"no webhook {args.webhook_id}")
    print_json([registry.delivery_view(row) for row in owed])
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    actions = group(sub, "webhooks", "post events (the audit trail's kinds) to your apps", act)
    create = actions.add_parser("create", help="subscribe a URL; prints its secret once")
    create.add_argument("--url", required=True)
    create.add_argument(
        "--event", action="append", required=True, help="an audit kind, or * for all; repeat"
    )
    actions.add_parser("list", help="every webhook")
    for name, text in (
        ("delete", "delete a webhook and what is still owed to it"),
        ("rotate-secret", "a new signing secret, printed once"),
    ):
        actions.add_parser(name, help=text).add_argument("webhook_id")
    owed = actions.add_parser("deliveries", help="deliveries still owed, with their last error")
    owed.add_argument("webhook_id", nargs="?")
