"""``sesame clients``: register, list, show, delete relying apps and rotate their secrets.
Grant types are offered from the one registry (``service.oidc.grants``)."""

from __future__ import annotations

import argparse
import sys

from service.auth.context import AuthContext
from service.cli.base import api_scope_option, create_parser, done, group, print_json, refuse, show
from service.keys.signing import ALGORITHMS, DEFAULT_ALG
from service.oidc import clients
from service.oidc.assurance.profile import AUTH_METHOD_NAMES, PROFILES, Assurance
from service.oidc.client_changes import ClientChanges, update_client
from service.oidc.client_links import LINK_NAMES
from service.oidc.clients import (
    CLIENT_TYPES,
    DEFAULT_SCOPES,
    SCOPES,
    ClientRejected,
    ClientSpec,
)
from service.oidc.context import OidcContext
from service.oidc.grants import ALIASES, DEFAULT_GRANT_TYPES, GRANT_TYPES
from service.oidc.groups import GroupRejected


def _api_access(pairs: list[list[str]]) -> dict[str, list[str]]:
    access: dict[str, list[str]] = {}
    for audience, scope in pairs:
        access.setdefault(audience, []).append(scope)
    return access


def _links(args: argparse.Namespace) -> dict[str, str]:
    """``--logo-uri`` etc. as given (an empty value removes that link on update)."""
    given = {name: getattr(args, name) for name in LINK_NAMES}
    return {name: value for name, value in given.items() if value is not None}


def _link_options(parser: argparse.ArgumentParser) -> None:
    texts = {
        "logo_uri": "the app's logo, shown on the sign-in and consent pages (https)",
        "client_uri": "the app's home page",
        "policy_uri": "the app's privacy policy",
        "tos_uri": "the app's terms of service",
    }
    for name in LINK_NAMES:
        parser.add_argument("--" + name.replace("_", "-"), dest=name, help=texts[name])


def _assurance_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--auth-method",
        choices=AUTH_METHOD_NAMES,
        help="how it authenticates at /token (default: a secret, or none for a public client)",
    )
    _key_options(parser)
    parser.add_argument(
        "--dpop", action="store_true", help="its access tokens are always DPoP-bound (RFC 9449)"
    )
    parser.add_argument(
        "--profile", choices=PROFILES, help="fapi2: hold it to the FAPI 2.0 Security Profile"
    )


def _key_options(parser: argparse.ArgumentParser) -> None:
    keys = parser.add_mutually_exclusive_group()
    keys.add_argument("--jwks-file", help="its public keys: a JWK Set in a JSON file")
    keys.add_argument("--jwks-uri", help="where it publishes its JWK Set")


def _jwks(args: argparse.Namespace) -> str | None:
    if not args.jwks_file:
        return None
    try:
        with open(args.jwks_file, encoding="utf-8") as file:
            return file.read(1 << 20)
    except (OSError, UnicodeDecodeError) as exc:
        raise ClientRejected(f"cannot read {args.jwks_file}: {exc}") from exc


def _assurance(args: argparse.Namespace) -> Assurance:
    return Assurance(
        auth_method=args.auth_method or "",
        jwks=_jwks(args),
        jwks_uri=args.jwks_uri or "",
        dpop_bound=args.dpop,
        profile=args.profile or "",
    )


async def create(oidc: OidcContext, args: argparse.Namespace) -> int:
    spec = ClientSpec(
        name=args.name,
        type=args.type,
        redirect_uris=args.redirect_uri or [],
        post_logout_redirect_uris=args.post_logout_redirect_uri or [],
        scopes=args.scope.split() if args.scope else list(DEFAULT_SCOPES),
        grant_types=args.grant or list(DEFAULT_GRANT_TYPES),
        id_token_alg=args.alg,
        first_party=args.first_party,
        client_id=args.client_id,
        allowed_origins=args.allowed_origin,
        backchannel_logout_uri=args.backchannel_logout_uri or "",
        api_access=_api_access(args.api_scope or []),
        links=_links(args),
        allowed_groups=args.allowed_group or [],
        require_par=args.require_par,
    )
    try:
        spec.assurance = _assurance(args)
    except ClientRejected as exc:
        return refuse(str(exc), 2)
    if args.if_missing and args.client_id and await clients.get_client(oidc, args.client_id):
        print(f"sesame: client {args.client_id} already exists", file=sys.stderr)
        return 0
    try:
        row, secret = await clients.create_client(oidc, spec, actor="cli")
    except (ClientRejected, GroupRejected) as exc:
        return refuse(str(exc), 2)
    print_json({**(await clients.described(oidc, [row]))[0], "client_secret": secret})
    if secret:
        print("sesame: the client secret is shown only now; store it safely.", file=sys.stderr)
    return 0


async def update(oidc: OidcContext, args: argparse.Namespace) -> int:
    origins = [] if args.no_allowed_origins else args.allowed_origin
    changes = ClientChanges(
        api_access=_api_access(args.api_scope) if args.api_scope is not None else None,
        allowed_origins=origins,
        backchannel_logout_uri=args.backchannel_logout_uri,
        redirect_uris=args.redirect_uri,
        post_logout_redirect_uris=args.post_logout_redirect_uri,
        links=_links(args) or None,
        allowed_groups=[] if args.no_allowed_groups else args.allowed_group,
        jwks_uri=args.jwks_uri,
    )
    try:
        changes.jwks = _jwks(args)
        row = await update_client(oidc, args.client_id, changes, actor="cli")
    except (ClientRejected, GroupRejected) as exc:
        return refuse(str(exc), 2)
    return show(await clients.describe(oidc, row), dict, f"no client {args.client_id}")


async def act(_auth: AuthContext, oidc: OidcContext, args: argparse.Namespace) -> int:
    if args.action == "create":
        return await create(oidc, args)
    if args.action == "list":
        print_json(await clients.described(oidc, await clients.list_clients(oidc)))
        return 0
    if args.action == "show":
        found = await clients.describe(oidc, await clients.get_client(oidc, args.client_id))
        return show(found, dict, f"no client {args.client_id}")
    if args.action == "delete":
        deleted = await clients.delete_client(oidc, args.client_id, actor="cli")
        message = f"deleted {args.client_id} and everything issued to it"
        return done(deleted, message, f"no client {args.client_id}")
    if args.action == "update":
        return await update(oidc, args)
    secret = await clients.rotate_secret(oidc, args.client_id, actor="cli")
    if secret is None:
        return refuse(f"no confidential client {args.client_id}")
    print_json({"client_id": args.client_id, "client_secret": secret})
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    actions = group(sub, "clients", "manage relying apps (OIDC clients)", act)
    create = create_parser(actions, "secret")
    create.add_argument("--type", choices=CLIENT_TYPES, default="confidential")
    create.add_argument("--redirect-uri", action="append", help="repeat for several")
    create.add_argument("--post-logout-redirect-uri", action="append")
    create.add_argument(
        "--scope",
        help=f'space-separated, of {" ".join(SCOPES)} (default "{" ".join(DEFAULT_SCOPES)}")',
    )
    create.add_argument("--grant", action="append", choices=[*GRANT_TYPES, *ALIASES])
    create.add_argument("--alg", choices=ALGORITHMS, default=DEFAULT_ALG)
    create.add_argument("--first-party", action="store_true", help="skip the consent page")
    create.add_argument(
        "--allowed-origin",
        action="append",
        help="a browser origin that may call the token endpoint (CORS); repeat for several "
        "(default for a public client: its web redirect URIs' origins)",
    )
    create.add_argument(
        "--backchannel-logout-uri", help="where Sesame posts a logout token when a person signs out"
    )
    api_scope_option(create, "allow one scope of a registered API (sesame apis create); repeat")
    create.add_argument(
        "--allowed-group",
        action="append",
        help="admit only members of this group (sesame groups); repeat for several",
    )
    _link_options(create)
    create.add_argument(
        "--require-par", action="store_true", help="authorization requests only via /par (RFC 9126)"
    )
    _assurance_options(create)
    create.add_argument("--client-id", help="choose the id (default: random)")
    create.add_argument("--if-missing", action="store_true", help="do nothing if it exists")
    change = actions.add_parser(
        "update",
        help="change redirect URIs, API access, allowed origins, allowed groups, links or the "
        "back-channel logout URI",
    )
    change.add_argument("client_id")
    change.add_argument("--redirect-uri", action="append", help="replaces the list; repeat")
    change.add_argument("--post-logout-redirect-uri", action="append", help="replaces the list")
    _link_options(change)
    api_scope_option(change, "the client's whole API access, one scope each; repeat")
    origins = change.add_mutually_exclusive_group()
    origins.add_argument("--allowed-origin", action="append", help="replaces the list; repeat")
    origins.add_argument("--no-allowed-origins", action="store_true", help="no CORS at all")
    change.add_argument("--backchannel-logout-uri", help='"" to stop back-channel logout')
    admitted = change.add_mutually_exclusive_group()
    admitted.add_argument(
        "--allowed-group", action="append", help="admit only these groups; replaces the list"
    )
    admitted.add_argument("--no-allowed-groups", action="store_true", help="admit everyone")
    _key_options(change)
    for name, text in (
        ("show", "show one client"),
        ("delete", "delete a client and everything issued to it"),
        ("rotate-secret", "replace a confidential client's secret (prints it once)"),
    ):
        actions.add_parser(name, help=text).add_argument("client_id")
