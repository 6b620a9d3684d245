"""An app's own presentation on the hosted pages (RFC 7591 2 client metadata): its logo, its
home page, its privacy policy and terms. Shown on the sign-in and consent pages ("to continue to
Acme", with Acme's links), stored as one JSON column on the client."""

from __future__ import annotations

import json
from typing import Any

from service.text import split_url

# RFC 7591 2: the metadata names, in the order the pages show them.
LINK_NAMES = ("logo_uri", "client_uri", "policy_uri", "tos_uri")
MAX_LINK = 2000
LOOPBACK = {"localhost", "127.0.0.1", "::1"}


def link_problem(name: str, uri: str) -> str | None:
    """Why ``uri`` cannot be the client's ``name`` link, or None. https only (http on a
    loopback host for development), no credentials in it."""
    if name not in LINK_NAMES:
        return f"{name}: not one of {', '.join(LINK_NAMES)}"
    if len(uri) > MAX_LINK:
        return f"{name}: longer than {MAX_LINK} characters"
    parts = split_url(uri)
    if parts is None or not parts.hostname:
        return f"{name}: not an absolute URL"
    if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in LOOPBACK):
        return f"{name}: must use https (or http on a loopback host)"
    if parts.username or parts.password:
        return f"{name}: must not carry credentials"
    return None


def checked_links(links: dict[str, str]) -> dict[str, str]:
    """The links to store (empty values dropped), or ValueError with the first problem."""
    kept = {name: uri.strip() for name, uri in links.items() if uri and uri.strip()}
    for name, uri in kept.items():
        problem = link_problem(name, uri)
        if problem:
            raise ValueError(problem)
    return {name: kept[name] for name in LINK_NAMES if name in kept}


def dump_links(links: dict[str, str]) -> str:
    return json.dumps(links, separators=(",", ":"))


def load_links(stored: str) -> dict[str, str]:
    data: Any = json.loads(stored or "{}")
    return {name: str(data[name]) for name in LINK_NAMES if data.get(name)}
