"""``sesame groups``: groups of people, their members, and (with ``sesame clients create|update
--allowed-group``) the apps that admit only them. Names go in the ``groups`` claim."""

from __future__ import annotations

import argparse

from service.auth import operators
from service.auth.context import AuthContext
from service.cli.base import done, group, print_json, refuse
from service.oidc import groups
from service.oidc.context import OidcContext
from service.problems import Problem

WHO = "username, email address or user id"


async def act(auth: AuthContext, oidc: OidcContext, args: argparse.Namespace) -> int:
    try:
        return await _act(auth, oidc, args)
    except Problem as exc:
        return refuse(str(exc), 2)


async def _act(auth: AuthContext, oidc: OidcContext, args: argparse.Namespace) -> int:
    if args.action == "create":
        created = await groups.create_group(oidc, args.name, args.description, actor="cli")
        print_json(groups.group_view(created, 0))
        return 0
    if args.action == "list":
        listed = await groups.list_groups(oidc)
        print_json([groups.group_view(row, count) for row, count in listed])
        return 0
    if args.action == "show":
        detail = await groups.group_detail(oidc, args.name)
        if detail is None:
            return refuse(f"no group {args.name!r}")
        print_json(detail.as_dict())
        return 0
    if args.action == "delete":
        deleted = await groups.delete_group(oidc, args.name, actor="cli")
        return done(deleted, f"deleted group {args.name}", f"no group {args.name!r}")
    found = await groups.find_group(oidc, args.name)
    if found is None:
        return refuse(f"no group {args.name!r}")
    person = await operators.find_user(auth, args.user)
    if person is None:
        return refuse(f"no user {args.user!r} (give a {WHO})")
    joining = args.action == "add"
    changed = await groups.set_membership(oidc, found, person.user, joining, actor="cli")
    who, name = person.user.username, found.name
    if joining:
        print(f"sesame: {who} {'is now' if changed else 'was already'} in {name}")
    else:
        print(f"sesame: {who} {'is no longer' if changed else 'was not'} in {name}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    actions = group(sub, "groups", "groups of people, for the groups claim and app access", act)
    create = actions.add_parser("create", help="a new group")
    create.add_argument("name", help="letters, digits, '.', '_' or '-' (at most 64)")
    create.add_argument("--description", default="")
    actions.add_parser("list", help="every group with its number of members")
    for name, text in (
        ("show", "one group: members and the apps that admit it"),
        ("delete", "delete a group (refused while an app admits it)"),
    ):
        actions.add_parser(name, help=text).add_argument("name")
    for name, text in (("add", "put a person in a group"), ("remove", "take a person out")):
        member = actions.add_parser(name, help=text)
        member.add_argument("name", help="the group")
        member.add_argument("user", help=WHO)
