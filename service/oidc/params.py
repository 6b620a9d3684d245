"""Request parameters, each allowed once (RFC 6749 section 3.1: "Request and response
parameters MUST NOT be included more than once"). A repeated parameter is refused rather than
silently resolved to its first or last value, which is how parameter-pollution attacks slip a
second redirect URI or scope past one check and into another."""

from __future__ import annotations

from collections.abc import Iterable

from service.oidc.errors import InvalidRequest


def single_values(pairs: Iterable[tuple[str, str]]) -> tuple[dict[str, str], set[str]]:
    """The parameters as a dict, and the names that came more than once. Empty values count
    as absent (RFC 6749 3.1: "parameters sent without a value MUST be treated as if they were
    omitted")."""
    values: dict[str, str] = {}
    repeated: set[str] = set()
    for name, value in pairs:
        if value == "":
            continue
        if name in values:
            repeated.add(name)
        values[name] = value
    return values, repeated


def form_params(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Back-channel request parameters; a repeated one is an ``invalid_request``."""
    params, repeated = single_values(pairs)
    if repeated:
        raise InvalidRequest(f"parameters given more than once: {', '.join(sorted(repeated))}")
    return params
